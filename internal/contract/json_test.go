package contract

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sportello/internal/contract/jsonpin"
)

// The structs of this package travel through Temporal: in workflow inputs,
// activity inputs and results, and so in every recorded history. A history
// is decoded by the JSON names its payloads were written with, so these
// tests pin them: renaming a field, or dropping its tag (it would then be
// encoded under its Go name), fails here before it fails a replay.

// travelling lists every struct type of the package with the JSON names a
// filled value is encoded with. Most of the names were the Go names of
// untagged fields before the types moved here from the store: they stay.
var travelling = []jsonpin.Pinned{
	// The case workflow.
	{Value: AwardRule{}, Keys: []string{"base_cents", "per_extra_member_cents", "per_minor_cents", "max_cents"}},
	{Value: Tranche{}, Keys: []string{"percent", "after_days"}},
	{Value: FundTerms{}, Keys: []string{"id", "name", "isee_threshold_cents", "rule", "tranches", "review_working_days",
		"opens_at", "closes_at", "expires_at", "four_eyes_above_cents", "info_reply_working_days"}},
	{Value: Office{}, Keys: []string{"patron_month", "patron_day", "opens", "closes"}},
	{Value: CaseInfo{}, Keys: []string{"id", "district_id", "municipality_id", "applicant_id", "tax_code", "form_id",
		"form_version", "status", "data", "created_at", "fund", "office"}},
	{Value: Household{}, Keys: []string{"members", "minors"}},
	{Value: ApplicationFacts{}, Keys: []string{"household", "isee_euro", "residence"}},
	{Value: Check{}, Keys: []string{"name", "outcome", "detail", "detail_it"}},
	// The booking saga.
	{Value: BookingSession{}, Keys: []string{"id", "seq", "voucher_cents", "online_cents", "scheduled_at", "status",
		"cooperative_id", "delivered_at", "delivery_note", "confirmed_at", "confirmed_by", "company_cents"}},
	{Value: OfferInput{}, Keys: []string{"BookingID", "Attempt", "At"}},
	{Value: Offer{}, Keys: []string{"found", "attempt", "cooperative_id", "cooperative_name", "service_id", "service_name", "respond_by"}},
	{Value: CloseOfferInput{}, Keys: []string{"BookingID", "Attempt", "Outcome", "Reason", "By", "At"}},
	{Value: AcceptOfferInput{}, Keys: []string{"BookingID", "Attempt", "By", "Dates", "At"}},
	{Value: DeliveryInput{}, Keys: []string{"BookingID", "Seq", "CooperativeID", "By", "DeliveredAt", "Note"}},
	{Value: ConfirmSessionsInput{}, Keys: []string{"BookingID", "Seqs", "By", "At"}},
	{Value: CancelSessionsInput{}, Keys: []string{"BookingID", "Seqs", "Reason", "Withdraw", "At"}},
	// The delegation workflow.
	{Value: AbsenceView{}, Keys: []string{"id", "district", "municipality", "user_id", "username", "display_name", "role",
		"delegate_id", "delegate", "delegate_name", "delegate_role", "starts_at", "ends_at", "reason", "status",
		"created_by", "created_at", "cancelled_at"}},
	// Billing.
	{Value: PreparedInvoice{}, Keys: []string{"id", "number", "status", "total_cents", "lines", "empty"}},
	// Appointments.
	{Value: PersonalPlan{}, Keys: []string{"needs", "services", "next_steps", "notes"}},
	{Value: CloseAppointmentInput{}, Keys: []string{"ID", "Status", "By", "Reason", "Plan", "At"}},
	// Accounts.
	{Value: PasswordResetMail{}, Keys: []string{"request", "username", "requested_at"}},
	// The ledger check.
	{Value: LedgerCheckResult{}, Keys: []string{"name", "description", "violations", "samples"}},
	{Value: LedgerReport{}, Keys: []string{"checked_at", "accounts", "transfers", "checks"}},
	// The operations console (refund resolution).
	{Value: ResolveRefundInput{}, Keys: []string{"incident_id", "requested_by", "approved_by", "reason"}},
	{Value: ResolveRefundResult{}, Keys: []string{"refund_id", "amount_cents", "refunded_cents"}},
	{Value: RefundResolutionInput{}, Keys: []string{"incident_id", "requester", "reason"}},
	{Value: RefundApproveInput{}, Keys: []string{"actor"}},
	{Value: RefundResolutionResult{}, Keys: []string{"outcome", "approved_by", "refund"}},
	{Value: OpsActor{}, Keys: []string{"user_id", "username", "display_name", "role"}},
	// A call's funding.
	{Value: CallFundingInput{}, Keys: []string{"CallID"}},
	{Value: CancelPublicationInput{}, Keys: []string{"Actor"}},
}

func TestJSONNamesArePinned(t *testing.T) { jsonpin.Check(t, travelling) }

// TestOfficeDecodesTheCaseHistoriesNames decodes an office calendar as case
// histories recorded it before it was a type of its own here (it was
// calendar.Office, whose fields and names contract.Office keeps).
func TestOfficeDecodesTheCaseHistoriesNames(t *testing.T) {
	var c CaseInfo
	raw := `{"id":"BS-2026-000001","office":{"patron_month":3,"patron_day":4,"opens":30600000000000,"closes":61200000000000}}`
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	want := Office{PatronMonth: time.March, PatronDay: 4, Opens: 8*time.Hour + 30*time.Minute, Closes: 17 * time.Hour}
	if c.Office != want {
		t.Errorf("office decoded as %+v, want %+v", c.Office, want)
	}
}

// TestEveryTravellingFieldIsTagged walks every struct reachable from the
// travelling types (nested structs, pointers, slices) and fails on an
// exported field without a JSON name of its own.
func TestEveryTravellingFieldIsTagged(t *testing.T) {
	// Structs of other packages (time.Time, …) encode themselves; "" is
	// the package of unnamed structs.
	w := jsonpin.Walker{T: t, Pkgs: []string{"", reflect.TypeFor[Offer]().PkgPath()}}
	for _, tc := range travelling {
		typ := reflect.TypeOf(tc.Value)
		w.Walk(typ, typ.Name())
	}
}

// TestEveryStructIsPinned reads the package's source: a struct type added
// here travels through Temporal, so it must be in travelling (and so have
// its names pinned and tagged).
func TestEveryStructIsPinned(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range travelling {
		listed[reflect.TypeOf(tc.Value).Name()] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if _, ok := spec.Type.(*ast.StructType); ok && spec.Assign == 0 {
				found++
				if !listed[spec.Name.Name] {
					t.Errorf("%s: struct %s is not in travelling: pin its JSON names", fset.Position(spec.Pos()), spec.Name.Name)
				}
			}
			return true
		})
	}
	if found < len(travelling) {
		t.Errorf("found %d struct types in the package's source, fewer than the %d listed: is the test run in its folder?", found, len(travelling))
	}
}
