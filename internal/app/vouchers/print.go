package vouchers

import (
	"context"
	"errors"

	"sportello/internal/app"
	"sportello/internal/store"
)

// AuditPrintVoucher is the audit action of staff printing a case's voucher
// (or the letter that carries it) to post it to a citizen without e-mail.
const AuditPrintVoucher = "print_voucher"

// ForPrint reads case caseID and its voucher for the Social Point to print
// and post (issue 16: the home-delivery contact task says "PDF from the
// case page"). The rule: staff only (operators and supervisors), the case
// within the caller's scope (row-level security: an operator the cases of
// their municipality, a supervisor the district's); NotFound for a case
// outside it or without a voucher. Each print is audited.
func (s Service) ForPrint(ctx context.Context, user store.UserView, caseID string) (store.CaseView, store.VoucherView, error) {
	if !app.IsStaff(user.Role) {
		return store.CaseView{}, store.VoucherView{}, app.Missing("case")
	}
	c, err := s.API.Case(ctx, user.Scope(), caseID)
	if errors.Is(err, store.ErrNotFound) {
		return c, store.VoucherView{}, app.Missing("case")
	}
	if err != nil {
		return c, store.VoucherView{}, err
	}
	if c.Voucher == nil {
		return c, store.VoucherView{}, app.Missing("voucher")
	}
	v, err := s.Own(ctx, user, c.Voucher.ID)
	if err != nil {
		return c, v, err
	}
	if v.Kind == store.FundKindService {
		return c, v, app.Missing("voucher") // a service voucher is spent online, not printed
	}
	if err := s.AuditRead(ctx, user, AuditPrintVoucher, c.ID, c.Municipality, map[string]string{"voucher_id": v.ID}); err != nil {
		return c, v, err
	}
	return c, v, nil
}
