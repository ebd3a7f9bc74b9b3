package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// BookableForTest reads a service as the cart does (bookableService) and as
// the checkout does (bookableHere), in one transaction of scope.
func (a API) BookableForTest(ctx context.Context, scope Scope, id int64) (cart, checkout Service, cartErr, checkoutErr error) {
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		cart, cartErr = bookableService(ctx, tx, scope, id)
		checkout, checkoutErr = bookableHere(ctx, tx, scope, id)
		return nil
	})
	if err != nil {
		cartErr, checkoutErr = err, err
	}
	return cart, checkout, cartErr, checkoutErr
}
