package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"sportello/internal/i18n"
	"sportello/internal/notify"
	"sportello/internal/outbox"
	"sportello/internal/store"
)

// Notification kinds: the templates of internal/notify.
const (
	KindApplicationReceived  = notify.KindApplicationReceived
	KindInformationRequested = notify.KindInformationRequested
	KindApproved             = notify.KindApproved
	KindRejected             = notify.KindRejected
	KindVoucherReady         = notify.KindVoucherReady
	KindTrancheReleased      = notify.KindTrancheReleased
	KindVoucherExpiring      = notify.KindVoucherExpiring
	KindWithdrawn            = notify.KindWithdrawn
	KindStaffAssigned        = notify.KindStaffAssigned
	KindStaffReminder        = notify.KindStaffReminder
	KindStaffEscalation      = notify.KindStaffEscalation
)

// Mailer renders a notification template and delivers it over SMTP (see
// internal/outbox). The worker adapts internal/notify to it.
type Mailer = outbox.Mailer

// NotifyInput is one notification to an audience of a case.
type NotifyInput struct {
	Key      string         `json:"Key"` // unique per notification; the recipient is appended
	CaseID   string         `json:"CaseID"`
	TaskID   string         `json:"TaskID"`
	Kind     string         `json:"Kind"`
	Audience string         `json:"Audience"` // contract.AudienceApplicant, AudienceAssignee, AudienceSupervisors
	Data     map[string]any `json:"Data"`
	At       time.Time      `json:"At"`
	// OneContact (FoodVoucher level 9): a citizen without e-mail has one
	// open contact task per case, the newest, which supersedes the open
	// ones (store.ContactTaskInput.OneOpen).
	OneContact bool `json:"OneContact,omitempty"`
}

// Notify sends a notification to everyone in the audience, once each. A
// citizen without an e-mail address is left to the Social Point: a contact
// task (a phone call or a letter, and for a voucher ready the home delivery
// of the printed voucher when the citizen asked for it) that the case
// timeline mentions; the outbox row is then handed over ("sent"). Staff
// without an address are skipped.
func (a *Cases) Notify(ctx context.Context, in NotifyInput) error {
	recipients, err := a.Store.Recipients(ctx, in.CaseID, in.TaskID, in.Audience)
	if err != nil {
		return err
	}
	facts, err := a.Store.NotificationFacts(ctx, in.CaseID)
	if err != nil {
		return err
	}
	// What the workflow knows wins over the database's facts.
	maps.Copy(facts, in.Data)
	if due, ok := in.Data["due_at"]; ok && in.Kind == KindApplicationReceived {
		facts["decision_by"] = due // the review's due date: when the citizen can expect an answer
	}
	if in.Kind == KindInformationRequested {
		facts["question"], facts["reply_by"] = in.Data["reason"], in.Data["deadline"]
	}
	var retry error
	for _, r := range recipients {
		key := in.Key + ":" + strconv.FormatInt(r.UserID, 10)
		if r.Email == "" {
			if in.Audience != store.AudienceApplicant {
				continue
			}
			if _, err := a.Store.BeginNotification(ctx, store.OutboxEntry{Key: key, CaseID: in.CaseID, Kind: in.Kind,
				Channel: "social_point", Recipient: r.Name, Lang: r.Lang}); err != nil {
				return err
			}
			if _, err := a.Store.OpenContactTask(ctx, store.ContactTaskInput{Key: key, CaseID: in.CaseID, Kind: in.Kind,
				CitizenID: r.UserID, MessageIT: contactMessage(in.Kind, facts, r.Name, a.PortalURL), At: in.At,
				OneOpen: in.OneContact, EarlierIT: i18n.T(i18n.IT, "desk.contact_earlier")},
				KindVoucherReady); err != nil {
				return err
			}
			if err := a.Store.FinishNotification(ctx, key, store.NotificationSent, nil); err != nil {
				return err
			}
			continue
		}
		status, err := a.Store.BeginNotification(ctx, store.OutboxEntry{Key: key, CaseID: in.CaseID, Kind: in.Kind,
			Channel: "email", Recipient: r.Email, Lang: r.Lang})
		if err != nil {
			return err
		}
		if status == store.NotificationSent || a.Mailer == nil {
			continue // delivered by an earlier attempt, or no mail server configured: stays pending
		}
		data := maps.Clone(facts)
		data["name"] = r.Name
		data["portal_url"] = a.PortalURL
		data["path"] = "/cases/" + in.CaseID // the case page, for the citizen and for staff alike
		_, sendErr := a.Mailer.Send(ctx, r.Email, r.Name, in.Kind, r.Lang, key, data)
		switch {
		case sendErr == nil:
			if err := a.Store.FinishNotification(ctx, key, store.NotificationSent, nil); err != nil {
				return err
			}
		case a.Mailer.Permanent(sendErr):
			activity.GetLogger(ctx).Warn("notification refused for good", "key", key, "error", sendErr)
			if err := a.Store.FinishNotification(ctx, key, store.NotificationFailed, sendErr); err != nil {
				return err
			}
		default:
			if err := a.Store.FinishNotification(ctx, key, store.NotificationPending, sendErr); err != nil {
				return err
			}
			retry = errors.Join(retry, sendErr)
		}
	}
	return retry // Temporal retries; delivered recipients are skipped next time
}

// contactMessage is what the Social Point tells the citizen: the Italian
// e-mail the citizen would have received (subject and text), or a short
// note when the template cannot be rendered.
func contactMessage(kind string, facts map[string]any, name, portalURL string) string {
	data := maps.Clone(facts)
	if portalURL == "" {
		portalURL = "/" // no public address configured: the text still reads
	}
	data["name"], data["portal_url"] = name, portalURL
	data["path"] = "/cases/" + fmt.Sprint(facts["case_number"])
	msg, err := notify.Render(kind, "it", notify.IntegerCents(data))
	if err != nil {
		return "Comunicazione \"" + kind + "\" relativa alla pratica " + fmt.Sprint(facts["case_number"]) + "."
	}
	return msg.Subject + "\n\n" + msg.Text
}
