package workflows

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"
	"testing"

	"sportello/internal/contract/jsonpin"
)

// The inputs and results of the workflows, and the arguments and results of
// their updates, queries and signals, travel through Temporal: histories
// record the inputs, results, update arguments and results and signals
// under these JSON names, and a replay (or a caller decoding a result)
// reads them by the same names. The untagged fields (BillingInput,
// BillingResult) got a tag equal to the Go name they were encoded under:
// never rename one (activities/json_test.go and internal/contract's
// json_test.go do the same for the types defined there).

// payloads pins the JSON names of a filled value of every struct of this
// package that travels through Temporal (Actor, TaskState and the booking's
// offer and sessions travel inside them).
var payloads = []jsonpin.Pinned{
	{Value: Actor{}, Keys: []string{"user_id", "username", "display_name", "role"}},
	// FoodVoucher
	{Value: FoodVoucherInput{}, Keys: []string{"case_id"}},
	{Value: FoodVoucherResult{}, Keys: []string{"status", "award_cents", "voucher_id", "returned_cents"}},
	{Value: ClaimInput{}, Keys: []string{"task_id", "actor"}},
	{Value: ClaimResult{}, Keys: []string{"task_id", "claimed_by", "claimed_at"}},
	{Value: AssignInput{}, Keys: []string{"task_id", "actor", "assignee", "reason"}},
	{Value: AssignResult{}, Keys: []string{"task_id", "assigned_to", "previous"}},
	{Value: ReleaseInput{}, Keys: []string{"task_id", "actor"}},
	{Value: ReleaseResult{}, Keys: []string{"task_id"}},
	{Value: DecideInput{}, Keys: []string{"task_id", "actor", "outcome", "amount_cents", "reason"}},
	{Value: DecideResult{}, Keys: []string{"outcome", "status", "amount_cents", "voucher_id"}},
	{Value: ProvideInfoInput{}, Keys: []string{"actor", "message", "data"}},
	{Value: ProvideInfoResult{}, Keys: []string{"status"}},
	{Value: StateResult{}, Keys: []string{"status", "task", "award_cents", "voucher_id", "tranches_released"}},
	{Value: TaskState{}, Keys: []string{"id", "kind", "due_at", "claimed_by_id", "claimed_by", "escalated"}},
	// Error details of refused or failed updates.
	{Value: ForbiddenReason{}, Keys: []string{"code"}},
	{Value: FieldProblem{}, Keys: []string{"pointer", "id", "args"}},
	// Appointment
	{Value: AppointmentInput{}, Keys: []string{"appointment_id", "point_id", "citizen_id", "starts_at", "ends_at"}},
	{Value: AppointmentResult{}, Keys: []string{"status", "reminded"}},
	{Value: RecordAttendanceInput{}, Keys: []string{"actor", "attended", "plan"}},
	{Value: CancelAppointmentInput{}, Keys: []string{"actor", "reason"}},
	{Value: AppointmentUpdateResult{}, Keys: []string{"status"}},
	{Value: AppointmentState{}, Keys: []string{"status", "starts_at", "reminded"}},
	// Booking
	{Value: BookingInput{}, Keys: []string{"booking_id", "district_id", "citizen_id", "online_cents"}},
	{Value: BookingResult{}, Keys: []string{"status"}},
	{Value: BookingPayment{}, Keys: []string{"event_id", "payment_id", "status", "amount_cents"}},
	{Value: BookingRespondInput{}, Keys: []string{"actor", "cooperative_id", "accept", "reason", "sessions"}},
	{Value: BookingDeliveryInput{}, Keys: []string{"actor", "cooperative_id", "seq", "delivered_at", "note"}},
	{Value: BookingConfirmInput{}, Keys: []string{"actor", "seqs"}},
	{Value: BookingCancelInput{}, Keys: []string{"actor", "reason"}},
	{Value: BookingUpdateResult{}, Keys: []string{"status"}},
	{Value: BookingState{}, Keys: []string{"status", "payment_id", "payment_url", "paid", "offer", "sessions"}},
	{Value: BookingOfferState{}, Keys: []string{"attempt", "cooperative_id", "cooperative_name", "service_id", "respond_by", "open"}},
	{Value: BookingSessionState{}, Keys: []string{"seq", "status", "voucher_cents", "online_cents", "scheduled_at", "delivered_at", "confirm_by"}},
	// Delegation
	{Value: DelegationInput{}, Keys: []string{"absence_id"}},
	{Value: DelegationResult{}, Keys: []string{"status", "handed", "returned"}},
	{Value: CancelAbsenceInput{}, Keys: []string{"actor"}},
	{Value: CancelAbsenceResult{}, Keys: []string{"status"}},
	{Value: AbsenceState{}, Keys: []string{"status", "handed"}},
	// Billing (encoded under the Go names before it had tags)
	{Value: BillingInput{}, Keys: []string{"Kind", "PayeeID", "Municipality", "PollInterval", "InvoiceID"}},
	{Value: BillingResult{}, Keys: []string{"InvoiceID", "Status", "Empty", "TransferID"}},
	// CallFunding
	{Value: CallFundingResult{}, Keys: []string{"Status", "CommitmentNumber", "Refusal"}},
	// LedgerVerify
	{Value: LedgerVerifyInput{}, Keys: []string{"grace"}},
	{Value: LedgerVerifyResult{}, Keys: []string{"accounts", "transfers", "checks"}},
	// CompanyStatements
	{Value: CompanyStatementsInput{}, Keys: []string{}},
	{Value: CompanyStatementsResult{}, Keys: []string{"issued"}},
	// Retention
	{Value: RetentionInput{}, Keys: []string{"retention_days", "limit"}},
	{Value: RetentionResult{}, Keys: []string{"run_id", "cutoff", "people", "cases", "kept", "more"}},
}

// errorDetails are the structs this package attaches to application errors
// (a validator's refusal or a handler's failure): they reach the caller
// through Temporal without appearing in any signature.
var errorDetails = []any{ForbiddenReason{}, FieldProblem{}}

func TestPayloadNamesArePinned(t *testing.T) { jsonpin.Check(t, payloads) }

// TestEveryPayloadIsPinnedAndTagged reads the Go files of the package: the
// exported workflow functions (first parameter a workflow.Context), the
// update and query handlers (the functions passed to
// workflow.SetUpdateHandler*/SetQueryHandler, and every method value of the
// workflow's state taken where they are set: handlers and validators) and
// the values signals are received into. Each struct of this package they
// take or return must be in payloads, and every exported field reachable
// from them (here or in internal/contract) must have a JSON name of its own.
func TestEveryPayloadIsPinnedAndTagged(t *testing.T) {
	byName := map[string]reflect.Type{}
	for _, tc := range payloads {
		byName[reflect.TypeOf(tc.Value).Name()] = reflect.TypeOf(tc.Value)
	}
	found := travellingTypes(t)
	if len(found.workflows) < 6 || found.handlers < 28 || found.signals < 1 {
		t.Errorf("found %d workflows %v, %d handler functions and %d typed signals: the source reading misses some",
			len(found.workflows), found.workflows, found.handlers, found.signals)
	}

	local := reflect.TypeFor[Actor]().PkgPath()
	contractPkg := reflect.TypeFor[PersonalPlan]().PkgPath()
	w := jsonpin.Walker{T: t, Pkgs: []string{local, contractPkg}, Visit: func(typ reflect.Type, path string) {
		if typ.PkgPath() == local && byName[typ.Name()] != typ {
			t.Errorf("%s: %s travels through Temporal and is not in payloads: pin its JSON names", path, typ.Name())
		}
	}}
	for name, where := range found.types {
		typ, ok := byName[name]
		if !ok {
			t.Errorf("%s: %s travels through Temporal and is not in payloads: pin its JSON names", where, name)
			continue
		}
		w.Walk(typ, where)
	}
	for _, v := range errorDetails {
		w.Walk(reflect.TypeOf(v), "error details")
	}
	for name, typ := range byName {
		if !w.Seen[typ] {
			t.Errorf("%s is in payloads but no workflow, handler, signal or error takes or returns it: drop it from the list", name)
		}
	}
}

// travelling is what the Go files of the package say travels.
type travelling struct {
	types     map[string]string // struct type name of this package -> where it was seen
	workflows []string
	handlers  int
	signals   int
}

// travellingTypes reads the non-test Go files of the package.
func travellingTypes(t *testing.T) travelling {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	structs := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					if _, ok := ts.Type.(*ast.StructType); ok {
						structs[ts.Name.Name] = true
					}
				}
			}
		}
	}
	// methods[receiver type][method] is the method's declaration.
	methods := map[string]map[string]*ast.FuncDecl{}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil {
				continue
			}
			recv := typeIdents(fd.Recv.List[0].Type)
			if len(recv) != 1 {
				continue
			}
			if methods[recv[0]] == nil {
				methods[recv[0]] = map[string]*ast.FuncDecl{}
			}
			methods[recv[0]][fd.Name.Name] = fd
		}
	}

	out := travelling{types: map[string]string{}}
	addSig := func(ft *ast.FuncType, where string) {
		for _, fl := range []*ast.FieldList{ft.Params, ft.Results} {
			if fl == nil {
				continue
			}
			for _, fld := range fl.List {
				for _, id := range typeIdents(fld.Type) {
					if structs[id] {
						out.types[id] = where
					}
				}
			}
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			if fd.Recv == nil && fd.Name.IsExported() && len(fd.Type.Params.List) > 0 && isSel(fd.Type.Params.List[0].Type, "workflow", "Context") {
				out.workflows = append(out.workflows, fd.Name.Name)
				addSig(fd.Type, fd.Name.Name)
			}
			var recvName, recvType string
			if fd.Recv != nil && len(fd.Recv.List[0].Names) == 1 {
				recvName = fd.Recv.List[0].Names[0].Name
				if ids := typeIdents(fd.Recv.List[0].Type); len(ids) == 1 {
					recvType = ids[0]
				}
			}
			setsHandlers := false
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				switch {
				case isSel(call.Fun, "workflow", "SetUpdateHandler"), isSel(call.Fun, "workflow", "SetUpdateHandlerWithOptions"),
					isSel(call.Fun, "workflow", "SetQueryHandler"), isSel(call.Fun, "workflow", "SetQueryHandlerWithOptions"):
					setsHandlers = true
					if len(call.Args) > 2 {
						if lit, ok := call.Args[2].(*ast.FuncLit); ok {
							out.handlers++
							addSig(lit.Type, fd.Name.Name+": a handler")
						}
					}
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Receive" || sel.Sel.Name == "ReceiveAsync" || sel.Sel.Name == "ReceiveWithTimeout") {
					for _, a := range call.Args {
						u, ok := a.(*ast.UnaryExpr)
						if !ok || u.Op != token.AND {
							continue
						}
						id, ok := u.X.(*ast.Ident)
						if !ok {
							continue
						}
						if typ := declaredType(fd.Body, id.Name); typ != nil {
							out.signals++
							for _, name := range typeIdents(typ) {
								if structs[name] {
									out.types[name] = fd.Name.Name + ": a signal"
								}
							}
						} else {
							t.Errorf("%s: a signal is received into %s, whose type the test does not find", fd.Name.Name, id.Name)
						}
					}
				}
				return true
			})
			if !setsHandlers || recvName == "" {
				continue
			}
			// Method values of the receiver where handlers are set (methods
			// referenced, not called): the handlers and their validators.
			called := map[ast.Expr]bool{}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					called[call.Fun] = true
				}
				return true
			})
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok || called[sel] {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == recvName {
					if m, ok := methods[recvType][sel.Sel.Name]; ok {
						out.handlers++
						addSig(m.Type, recvType+"."+sel.Sel.Name)
					}
				}
				return true
			})
		}
	}
	return out
}

// declaredType is the type of the variable name declared with var in body.
func declaredType(body *ast.BlockStmt, name string) ast.Expr {
	var typ ast.Expr
	ast.Inspect(body, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && vs.Type != nil {
			for _, id := range vs.Names {
				if id.Name == name {
					typ = vs.Type
				}
			}
		}
		return typ == nil
	})
	return typ
}

// typeIdents are the unqualified type names in a type expression (the
// element types of pointers, slices, arrays and maps).
func typeIdents(e ast.Expr) []string {
	switch e := e.(type) {
	case *ast.Ident:
		return []string{e.Name}
	case *ast.StarExpr:
		return typeIdents(e.X)
	case *ast.ArrayType:
		return typeIdents(e.Elt)
	case *ast.MapType:
		return append(typeIdents(e.Key), typeIdents(e.Value)...)
	}
	return nil
}

func isSel(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == pkg && sel.Sel.Name == name
}
