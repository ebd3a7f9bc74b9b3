package workflows

import "go.temporal.io/sdk/workflow"

// FoodVoucher drives one food-voucher case from submission to the voucher's expiry.
func FoodVoucher(ctx workflow.Context, in FoodVoucherInput) (FoodVoucherResult, error) {
	return FoodVoucherResult{}, nil
}
