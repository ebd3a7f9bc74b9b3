package marketplace

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"sportello/internal/app"
	"sportello/internal/jsonx"
	"sportello/internal/store"
)

// The fingerprint of a checkout is the one the API stored before the
// marketplace service existed (sorted keys, empty optional fields left
// out): an Idempotency-Key replayed across the change still matches.
func TestCheckoutRequestHashIsCanonical(t *testing.T) {
	for _, tc := range []struct {
		in   CheckoutInput
		want string
	}{
		{CheckoutInput{ServiceID: 7, Payment: "split", VoucherID: "v-1", VoucherCents: 500},
			`{"payment":"split","service_id":7,"voucher_cents":500,"voucher_id":"v-1"}`},
		{CheckoutInput{ServiceID: 7, Payment: "online"}, `{"payment":"online","service_id":7}`},
	} {
		got, err := jsonx.RequestHash(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(tc.want))
		if want := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("RequestHash(%+v) = %s, want the sha256 of %s (%s)", tc.in, got, tc.want, want)
		}
	}
}

func TestParseISEE(t *testing.T) {
	for raw, want := range map[string]int{`8500`: 8500, `8500.50`: 8501, ` 0 `: 0, `1000000`: 1_000_000} {
		got, err := ParseISEE(json.RawMessage(raw))
		if err != nil || got == nil || *got != want {
			t.Errorf("ParseISEE(%s) = %v, %v; want %d", raw, got, err, want)
		}
	}
	if got, err := ParseISEE(json.RawMessage(`null`)); got != nil || err != nil {
		t.Errorf("ParseISEE(null) = %v, %v; want it cleared", got, err)
	}
	for raw, code := range map[string]string{``: "required", `"8500"`: "invalid", `-1`: "invalid",
		`8500.123`: "invalid", `1000000.01`: "invalid", `true`: "invalid"} {
		_, err := ParseISEE(json.RawMessage(raw))
		var ae *app.Error
		if !errors.As(err, &ae) || ae.Kind != app.Invalid || len(ae.Fields) != 1 ||
			ae.Fields[0].Pointer != "/isee_euro" || ae.Fields[0].Code != code {
			t.Errorf("ParseISEE(%q) = %v; want Invalid at /isee_euro, code %s", raw, err, code)
		}
	}
}

func TestResponseAndDeliveryValidate(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		r    Response
		want string
	}{
		{Response{}, "/accept"},
		{Response{Accept: &yes}, "/sessions"},
		{Response{Accept: &no, Reason: "  "}, "/reason"},
	} {
		if f := tc.r.Validate(); len(f) != 1 || f[0].Pointer != tc.want || f[0].In("it") == "" {
			t.Errorf("%+v: %v, want one problem at %s", tc.r, f, tc.want)
		}
	}
	if f := (Response{Accept: &no, Reason: "no room"}).Validate(); len(f) != 0 {
		t.Errorf("a decline with a reason: %v", f)
	}
	if f := (Delivery{}).Validate(); len(f) != 2 || f[0].Pointer != "/seq" || f[1].Pointer != "/delivered_at" {
		t.Errorf("an empty delivery: %v", f)
	}
}

// A split preview refuses, before reading anything, an item not named and
// a preview with no funder chosen (the store is not reached: Service{}).
func TestPreviewSplitRefusals(t *testing.T) {
	for _, tc := range []struct {
		in            SplitInput
		pointer, code string
	}{
		{SplitInput{CompanyCredit: true}, "/service_id", "required"},
		{SplitInput{ServiceID: -1, VoucherID: "v-1"}, "/service_id", "required"},
		{SplitInput{ServiceID: 7}, "/company_credit", "funder_required"},
		{SplitInput{ServiceID: 7, VoucherID: "  "}, "/company_credit", "funder_required"},
	} {
		_, err := Service{}.PreviewSplit(t.Context(), store.UserView{}, tc.in)
		var ae *app.Error
		if !errors.As(err, &ae) || ae.Kind != app.Invalid || len(ae.Fields) != 1 ||
			ae.Fields[0].Pointer != tc.pointer || ae.Fields[0].Code != tc.code {
			t.Errorf("PreviewSplit(%+v) = %v; want Invalid at %s, code %s", tc.in, err, tc.pointer, tc.code)
		}
	}
}
