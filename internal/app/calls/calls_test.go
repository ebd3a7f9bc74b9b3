package calls

import (
	"encoding/json"
	"testing"
	"time"
)

func validBody() CallBody {
	opens := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	closes, expires := opens.AddDate(0, 1, 0), opens.AddDate(0, 3, 0)
	threshold, budget := int64(15_000_00), int64(10_000_00)
	return CallBody{Municipality: " tradate ", Name: "  Buoni   spesa ", FormID: "buoni-spesa", FormVersion: 2,
		ISEEThresholdCents: &threshold, BudgetCents: &budget,
		Rule:     json.RawMessage(`{"base_cents":15000,"per_extra_member_cents":10000,"per_minor_cents":5000,"max_cents":55000}`),
		Tranches: json.RawMessage(`[{"percent":50,"after_days":0},{"percent":50,"after_days":14}]`),
		OpensAt:  &opens, ClosesAt: &closes, ExpiresAt: &expires}
}

// TestCallBodyValidate: the terms of a call, field by field.
func TestCallBodyValidate(t *testing.T) {
	b := validBody()
	terms, fields := b.Validate()
	if len(fields) > 0 || terms.Name != "Buoni spesa" || terms.Municipality != "tradate" || terms.BudgetCents != 10_000_00 {
		t.Fatalf("a valid call: %+v %v", terms, fields)
	}
	neg := int64(-1)
	cases := map[string]struct {
		edit          func(b *CallBody)
		pointer, code string
	}{
		"no name":               {func(b *CallBody) { b.Name = " " }, "/name", "required"},
		"no version":            {func(b *CallBody) { b.FormVersion = 0 }, "/form_version", "required"},
		"negative threshold":    {func(b *CallBody) { b.ISEEThresholdCents = &neg }, "/isee_threshold_cents", "out_of_range"},
		"no budget":             {func(b *CallBody) { b.BudgetCents = nil }, "/budget_cents", "required"},
		"closes before opens":   {func(b *CallBody) { c := b.OpensAt.Add(-time.Hour); b.ClosesAt = &c }, "/closes_at", "order"},
		"expires before closes": {func(b *CallBody) { e := b.ClosesAt.Add(-time.Hour); b.ExpiresAt = &e }, "/expires_at", "order"},
		"open three years":      {func(b *CallBody) { c := b.OpensAt.AddDate(3, 0, 0); b.ClosesAt, b.ExpiresAt = &c, &c }, "/closes_at", "out_of_range"},
		"rule unknown member":   {func(b *CallBody) { b.Rule = json.RawMessage(`{"base":1}`) }, "/rule", "shape"},
		"rule max below base":   {func(b *CallBody) { b.Rule = json.RawMessage(`{"base_cents":20000,"max_cents":10000}`) }, "/rule/max_cents", "order"},
		"rule negative":         {func(b *CallBody) { b.Rule = json.RawMessage(`{"base_cents":-1,"max_cents":10000}`) }, "/rule/base_cents", "out_of_range"},
		"tranches not 100":      {func(b *CallBody) { b.Tranches = json.RawMessage(`[{"percent":50,"after_days":0}]`) }, "/tranches", "sum"},
		"tranches out of order": {func(b *CallBody) {
			b.Tranches = json.RawMessage(`[{"percent":50,"after_days":9},{"percent":50,"after_days":1}]`)
		}, "/tranches", "shape"},
		"tranches not an array": {func(b *CallBody) { b.Tranches = json.RawMessage(`{}`) }, "/tranches", "shape"},
		"tranches missing":      {func(b *CallBody) { b.Tranches = nil }, "/tranches", "required"},
		"rule missing":          {func(b *CallBody) { b.Rule = json.RawMessage(`null`) }, "/rule", "required"},
		"dates missing":         {func(b *CallBody) { b.OpensAt = nil }, "/opens_at", "required"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := validBody()
			tc.edit(&b)
			_, fields := b.Validate()
			found := false
			for _, f := range fields {
				if f.Pointer == tc.pointer && f.Code == tc.code {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s at %s, got %+v", tc.code, tc.pointer, fields)
			}
		})
	}
}
