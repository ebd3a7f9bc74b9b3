package company

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// A Social Point hosted by a company (migration 034): a listening desk on
// the company's premises, with hours of its own (a factory's lunch break,
// say). It is public like every Social Point: its address and hours are no
// personal data, it appears in the lists and takes appointments as the
// others do, and it names the company that hosts it (hosting one is the
// company's offer to the district, made when it is set up). The company's
// welfare manager keeps its hours; so may the district's supervisors, as
// for any point of their district.

// HoursRequest replaces a point's weekly opening hours.
type HoursRequest struct {
	Hours []store.OpeningHours `json:"hours"`
}

// MaxHours is the most opening intervals a point may have in a week.
const MaxHours = 28

var errHoursKeepers = app.Refuse(app.Forbidden, "forbidden",
	"only the welfare manager of the hosting company and the district's supervisors keep a Social Point's hours")

// SetPointHours replaces the hours of point id: 422 per interval (weekday
// 1-7, HH:MM clocks, opening before closing, no overlap on a day), 404 for
// a point the caller does not keep. Audited.
func (s Service) SetPointHours(ctx context.Context, u store.UserView, id string, req HoursRequest) (store.SocialPoint, error) {
	if !isRole(u, contract.RoleWelfareManager) && !isRole(u, contract.RoleSupervisor) {
		return store.SocialPoint{}, errHoursKeepers
	}
	if fields := checkHours(req.Hours); len(fields) > 0 {
		return store.SocialPoint{}, app.InvalidInput(fields...)
	}
	var p store.SocialPoint
	e := store.AuditEntry{Action: AuditPointHours, Detail: app.AuditDetail(map[string]any{"point_id": id, "hours": req.Hours})}
	err := s.Audited(ctx, u, e, func() error {
		var err error
		p, err = s.API.SetSocialPointHours(ctx, u.Scope(), id, req.Hours)
		if errors.Is(err, store.ErrNotFound) {
			return app.Missing("social point")
		}
		return err
	})
	return p, err
}

// AuditPointHours is the audit action of a change of a point's hours.
const AuditPointHours = "social_point_hours"

func checkHours(hours []store.OpeningHours) []app.FieldError {
	if hours == nil {
		return []app.FieldError{app.Field("/hours", "required", "company.err.hours_required")}
	}
	if len(hours) > MaxHours {
		return []app.FieldError{app.Field("/hours", "too_many", "company.err.hours_too_many", MaxHours)}
	}
	var fields []app.FieldError
	type span struct{ day, from, to int }
	var ok []span
	for i, h := range hours {
		at := fmt.Sprintf("/hours/%d", i)
		if h.Weekday < 1 || h.Weekday > 7 {
			fields = append(fields, app.Field(at+"/weekday", "invalid", "company.err.weekday"))
			continue
		}
		from, e1 := time.Parse("15:04", h.Opens)
		to, e2 := time.Parse("15:04", h.Closes)
		switch {
		case e1 != nil:
			fields = append(fields, app.Field(at+"/opens", "invalid", "company.err.clock"))
		case e2 != nil:
			fields = append(fields, app.Field(at+"/closes", "invalid", "company.err.clock"))
		case !from.Before(to):
			fields = append(fields, app.Field(at+"/closes", "before_opening", "company.err.closes_before"))
		default:
			s := span{h.Weekday, from.Hour()*60 + from.Minute(), to.Hour()*60 + to.Minute()}
			if slices.ContainsFunc(ok, func(o span) bool { return o.day == s.day && o.from < s.to && s.from < o.to }) {
				fields = append(fields, app.Field(at, "overlap", "company.err.hours_overlap"))
				continue
			}
			ok = append(ok, s)
		}
	}
	return fields
}

// HostedPoints are the Social Points the welfare manager's company hosts.
func (s Service) HostedPoints(ctx context.Context, u store.UserView) ([]store.SocialPoint, error) {
	o, err := s.Overview(ctx, u)
	if err != nil {
		return nil, err
	}
	all, err := s.API.SocialPoints(ctx, u.Scope(), o.Company.District)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(p store.SocialPoint) bool { return p.HostCompanyID != o.Company.ID }), nil
}

// KeptPoint is point id for the form of its hours: the caller must keep
// them as SetPointHours decides (the welfare manager of the hosting
// company, a supervisor of its district); 404 for another point.
func (s Service) KeptPoint(ctx context.Context, u store.UserView, id string) (store.SocialPoint, error) {
	if !isRole(u, contract.RoleWelfareManager) && !isRole(u, contract.RoleSupervisor) {
		return store.SocialPoint{}, errHoursKeepers
	}
	p, err := s.API.KeptSocialPoint(ctx, u.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return p, app.Missing("social point")
	}
	return p, err
}
