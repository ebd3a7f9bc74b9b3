package contract

import (
	"encoding/json"
	"time"
)

// What the case workflow (food voucher) reads and writes: the case and its
// fund's terms (the LoadCase activity's result), the pre-check results, the
// audiences of its notifications. The store fills and writes these types;
// their JSON names are recorded in case workflows' histories: never rename
// one.

// AwardRule computes a fund's default award from the household.
type AwardRule struct {
	BaseCents           int64 `json:"base_cents"`
	PerExtraMemberCents int64 `json:"per_extra_member_cents"`
	PerMinorCents       int64 `json:"per_minor_cents"`
	MaxCents            int64 `json:"max_cents"`
}

// Amount applies the rule to a household.
func (r AwardRule) Amount(members, minors int) int64 {
	if members < 1 {
		members = 1
	}
	if minors < 0 {
		minors = 0
	}
	a := r.BaseCents + int64(members-1)*r.PerExtraMemberCents + int64(minors)*r.PerMinorCents
	if r.MaxCents > 0 && a > r.MaxCents {
		a = r.MaxCents
	}
	return a
}

// Tranche is one part of an award, released AfterDays after the award.
type Tranche struct {
	Percent   int `json:"percent"`
	AfterDays int `json:"after_days"`
}

// FundTerms are the rules of a fund a case workflow needs.
type FundTerms struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	ISEEThresholdCents int64     `json:"isee_threshold_cents"`
	Rule               AwardRule `json:"rule"`
	Tranches           []Tranche `json:"tranches"`
	ReviewWorkingDays  int       `json:"review_working_days"`
	OpensAt            time.Time `json:"opens_at"`
	ClosesAt           time.Time `json:"closes_at"`
	ExpiresAt          time.Time `json:"expires_at"`
	// FourEyesAboveCents: approvals above it need a second approver (nil: never).
	FourEyesAboveCents   *int64 `json:"four_eyes_above_cents,omitempty"`
	InfoReplyWorkingDays int    `json:"info_reply_working_days,omitempty"`
}

// Office is a municipality's office calendar as it travels: the patron
// saint's day and the opening hours (Monday to Friday). It has the fields
// and JSON names of calendar.Office, which computes due dates with it
// (convert: calendar.Office(o)); zero values mean no patron day and a
// whole-day office.
type Office struct {
	PatronMonth time.Month    `json:"patron_month,omitempty"`
	PatronDay   int           `json:"patron_day,omitempty"`
	Opens       time.Duration `json:"opens,omitempty"`  // since midnight, Rome time, e.g. 8h30m
	Closes      time.Duration `json:"closes,omitempty"` // since midnight; 0 = end of day
}

// CaseInfo is a case as its workflow sees it.
type CaseInfo struct {
	ID             string          `json:"id"`
	DistrictID     string          `json:"district_id"`
	MunicipalityID string          `json:"municipality_id"`
	ApplicantID    int64           `json:"applicant_id"`
	TaxCode        string          `json:"tax_code"`
	FormID         string          `json:"form_id"`
	FormVersion    int             `json:"form_version"`
	Status         string          `json:"status"`
	Data           json.RawMessage `json:"data"`
	CreatedAt      time.Time       `json:"created_at"`
	Fund           FundTerms       `json:"fund"`
	// Office is the municipality's business calendar for due dates.
	Office Office `json:"office"`
}

// Household is the part of the application data that awards depend on.
type Household struct {
	Members int `json:"members"`
	Minors  int `json:"minors"`
}

// ApplicationFacts extracts what pre-checks and awards need from form data.
type ApplicationFacts struct {
	Household Household `json:"household"`
	ISEEEuro  float64   `json:"isee_euro"`
	Residence struct {
		Municipality string `json:"municipality"`
	} `json:"residence"`
}

// Facts parses the case data.
func (c CaseInfo) Facts() (ApplicationFacts, error) {
	var f ApplicationFacts
	err := json.Unmarshal(c.Data, &f)
	return f, err
}

// Check is one automatic pre-check result.
type Check struct {
	Name     string `json:"name"`
	Outcome  string `json:"outcome"` // pass, warn, fail
	Detail   string `json:"detail"`
	DetailIT string `json:"detail_it,omitempty"`
}

// Audiences of a case's notifications.
const (
	AudienceApplicant   = "applicant"
	AudienceAssignee    = "assignee"    // who claimed the task, or the municipality's operators
	AudienceSupervisors = "supervisors" // the district's supervisors
)

// AutoAssignReason is the reason recorded for an automatic assignment.
const AutoAssignReason = "automatic assignment: least loaded"
