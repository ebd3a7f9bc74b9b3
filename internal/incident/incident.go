// Package incident reports an incident of the marketplace's money (a
// payment that does not match, a refund that keeps failing, a late payment
// refunded): recorded once in the store, e-mailed to the district's
// supervisors. The booking activities and the API's payment callback both
// report through it.
package incident

import (
	"context"
	"strconv"

	"sportello/internal/notify"
	"sportello/internal/outbox"
	"sportello/internal/store"
)

// Report records the incident once (per key) and e-mails the district's
// supervisors about it when mailer is not nil, once each; a supervisor
// without an address sees it on the incidents page only. A transient mail
// failure is returned so that the caller retries (the incident is not
// recorded twice).
func Report(ctx context.Context, st *store.Store, mailer outbox.Mailer, portalURL string, in store.IncidentInput) error {
	x, err := st.RecordIncident(ctx, in)
	if err != nil {
		return err
	}
	recipients, err := st.IncidentRecipients(ctx, x.DistrictID)
	if err != nil {
		return err
	}
	var retry error
	for _, r := range recipients {
		if r.Email == "" {
			continue
		}
		data := map[string]any{"name": r.Name, "portal_url": portalURL, "path": "/incidents", "incident_kind": x.Kind,
			"number": x.BookingNumber, "municipality": x.MunicipalityName, "amount_cents": x.AmountCents, "details": x.Details}
		entry := store.OutboxEntry{Key: "incident:" + x.ID + ":" + strconv.FormatInt(r.UserID, 10), Kind: notify.KindStaffIncident,
			Channel: "email", Recipient: r.Email, Lang: r.Lang}
		if err := outbox.SendOnce(ctx, st, mailer, entry, r.Name, data); err != nil {
			retry = err
		}
	}
	return retry
}
