package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sportello/internal/contract"
	"sportello/internal/store"
)

// snakeCode is a raw code shown as text: a lower-case word with an
// underscore.
var snakeCode = regexp.MustCompile(`\b[a-z]+(_[a-z]+)+\b`)

// sourceCodes reads every match of re's first group in the non-test Go
// files of dir.
func sourceCodes(t *testing.T, dir string, re *regexp.Regexp) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestEveryCaseEventHasTexts walks every timeline type the store writes
// (read from its sources, so that a new one cannot slip by) and every
// reason the booking workflow gives for a cancellation: each has a text in
// both languages, for the citizen and for staff.
func TestEveryCaseEventHasTexts(t *testing.T) {
	written := sourceCodes(t, "../../internal/store", regexp.MustCompile(`Type: +"([a-z_]+)"`))
	written = append(written, sourceCodes(t, "../../internal/store",
		regexp.MustCompile(`INSERT INTO case_events \([^)]*\)\s+(?:VALUES \(|SELECT )[^']*'([a-z_]+)'`))...)
	if !slices.Contains(written, "submitted") || !slices.Contains(written, "first_approval") || len(written) < 15 {
		t.Fatalf("the sources' scan found too little: %v", written)
	}
	for _, o := range store.ContactOutcomes {
		written = append(written, "contact_"+o)
	}
	for _, typ := range written {
		if !slices.Contains(store.CaseEventTypes, typ) {
			t.Errorf("the store writes %q, missing from store.CaseEventTypes", typ)
		}
	}
	for _, typ := range store.CaseEventTypes {
		for _, key := range []string{"event." + typ, "staff.event." + typ} {
			if !hasMessage(key) {
				t.Errorf("no text for %s in both languages", key)
			}
		}
	}
	reasons := sourceCodes(t, "../../workflows", regexp.MustCompile(`BookingReason\w+ += "([a-z_]+)"`))
	if len(reasons) < 3 {
		t.Fatalf("booking reasons: %v", reasons)
	}
	for _, r := range reasons {
		if !hasMessage("bk.cancel_reason." + r) {
			t.Errorf("no text for the cancellation reason %s", r)
		}
	}
}

func event(typ string, minute int, detail map[string]any) store.CaseEvent {
	b, _ := json.Marshal(detail)
	return store.CaseEvent{Type: typ, At: time.Date(2026, 12, 1, 9, minute, 0, 0, time.UTC), Detail: b}
}

// TestCitizenTimelineSaysItOnce: the review's internal steps do not look
// like the case starting over, and no code is shown.
func TestCitizenTimelineSaysItOnce(t *testing.T) {
	events := []store.CaseEvent{
		event("submitted", 0, nil), event("precheck", 1, map[string]any{"passed": true}),
		event("task_opened", 2, nil), event("task_assigned", 3, map[string]any{"reason": contract.AutoAssignReason}),
		event("task_claimed", 4, nil), event("task_released", 5, nil), event("task_claimed", 6, nil),
		event("information_requested", 7, map[string]any{"reason": "Serve l'ISEE aggiornato."}),
		event("information_received", 8, nil), event("task_opened", 9, nil), event("task_assigned", 10, nil),
		event("task_reminder", 11, nil), event("first_approval", 12, map[string]any{"amount_cents": 30000}),
		event("task_opened", 13, nil), event("approved", 14, map[string]any{"amount_cents": 30000}),
	}
	for _, lang := range []string{langIT, langEN} {
		out := citizenTimeline(lang, events)
		var texts []string
		for _, e := range out {
			texts = append(texts, e.Text)
			if snakeCode.MatchString(e.Text + " " + e.Detail) {
				t.Errorf("%s: raw code in %q %q", lang, e.Text, e.Detail)
			}
		}
		opened := translate(lang, "event.task_opened")
		if n := strings.Count(strings.Join(texts, "\n"), opened); n != 1 {
			t.Errorf("%s: %q shown %d times:\n%s", lang, opened, n, strings.Join(texts, "\n"))
		}
		want := []string{"event.submitted", "event.precheck", "event.task_opened", "event.information_requested",
			"event.information_received", "event.in_progress", "event.approved"}
		if len(texts) != len(want) {
			t.Fatalf("%s: %d entries, want %d:\n%s", lang, len(texts), len(want), strings.Join(texts, "\n"))
		}
		for i, k := range want {
			if texts[i] != translate(lang, k) {
				t.Errorf("%s: entry %d %q, want %s", lang, i, texts[i], k)
			}
		}
	}
}

// TestAssignmentReasonsInTheLanguage: the reasons the system writes for an
// assignment (automatic, absence handover and return) read in the page's
// language; a reason a person typed is shown as typed.
func TestAssignmentReasonsInTheLanguage(t *testing.T) {
	abs := store.AbsenceView{Username: "operatore.tradate", Delegate: "operatore2.tradate", Reason: "ferie",
		StartsAt: time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		reason string
		it, en string
	}{
		{contract.AutoAssignReason, "Assegnazione automatica", "Automatic assignment"},
		{store.DelegationReason(abs, false), "affidata al delegato operatore2.tradate", "handed to the delegate operatore2.tradate"},
		{store.DelegationReason(abs, true), "restituita da operatore2.tradate a operatore.tradate", "returned from operatore2.tradate to operatore.tradate"},
		{"carico di lavoro", "Motivazione: carico di lavoro", "Reason: carico di lavoro"},
	} {
		detail, _ := json.Marshal(map[string]any{"assignee": "operatore2.tradate", "reason": tc.reason})
		it := strings.Join(assignmentText(langIT, detail), " ")
		en := strings.Join(assignmentText(langEN, detail), " ")
		if !strings.Contains(it, tc.it) || !strings.Contains(en, tc.en) {
			t.Errorf("%q:\n it %q\n en %q", tc.reason, it, en)
		}
		if tc.reason != "carico di lavoro" && (strings.Contains(it, "delegated to") || strings.Contains(it, "automatic assignment") ||
			strings.Contains(it, "out of office")) {
			t.Errorf("English on the Italian page: %q", it)
		}
	}
}

func TestLinkCases(t *testing.T) {
	got := string(linkCases("1 altro buono <b> (BS-2026-000123, BS-2026-000124)"))
	want := `1 altro buono &lt;b&gt; (<a href="/cases/BS-2026-000123">BS-2026-000123</a>, <a href="/cases/BS-2026-000124">BS-2026-000124</a>)`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
