package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/marketplace"
	"sportello/internal/contract"
	"sportello/internal/funding"
	"sportello/internal/store"
	"sportello/workflows"
)

// The citizen's marketplace pages (issue 5): the cart ("Carrello"), the
// checkout of one cart item with the payment choice, the page that waits
// for the online payment and sends the citizen to the provider, the page
// the provider sends them back to, and their bookings ("Prenotazioni")
// with cancellation and delivery confirmation.

// ---- cart ----

type cartLineView struct {
	cartLine
	Unit, QuoteText, CoopName string
	Qty                       fieldView
}

func (s *Site) cartLineView(c *gin.Context, l cartLine) cartLineView {
	lang := pageLang(c)
	v := cartLineView{cartLine: l, Unit: s.t(c, "cat.unit."+l.Service.Unit), CoopName: l.Service.CooperativeName,
		Qty: fieldView{Name: "quantity", ID: "qty-" + strconv.FormatInt(l.ServiceID, 10), Label: s.t(c, "cart.quantity"),
			Type: "number", Value: strconv.Itoa(l.Quantity),
			Extra: map[string]string{"min": "1", "max": strconv.Itoa(store.MaxCartQuantity), "inputmode": "numeric"}}}
	if l.UnitPrice != nil {
		v.QuoteText = quoteText(lang, *l.UnitPrice)
	}
	return v
}

// renderCart renders the cart; bad, when not nil, is a refused quantity.
func (s *Site) renderCart(c *gin.Context, status int, bad *cartLineView) error {
	lines, _, err := s.marketplace.Cart(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	v := view{Title: s.t(c, "cart.title"), Nav: "cart"}
	views := make([]cartLineView, 0, len(lines))
	for _, l := range lines {
		lv := s.cartLineView(c, l)
		if bad != nil && bad.ServiceID == l.ServiceID {
			lv.Qty.Value, lv.Qty.Error = bad.Qty.Value, bad.Qty.Error
			v.Errors = append(v.Errors, summaryItem{Href: "#" + lv.Qty.FieldID(), Text: l.Service.Name + ": " + bad.Qty.Error})
		}
		views = append(views, lv)
	}
	v.Data = map[string]any{"Lines": views}
	s.render(c, status, "cart", v)
	return nil
}

func (s *Site) cartPage(c *gin.Context) error { return s.renderCart(c, http.StatusOK, nil) }

// refusal is the message of a refused request in the page's language.
func refusal(c *gin.Context, err error) (*httpx.Error, string) {
	he := httpx.From(err)
	if len(he.Fields) > 0 {
		return he, he.Fields[0].In(pageLang(c))
	}
	key := "bk.err." + he.Code
	if hasMessage(key) {
		return he, translate(pageLang(c), key)
	}
	return he, he.Message
}

func (s *Site) cartAddSubmit(c *gin.Context) error {
	id, _ := strconv.ParseInt(c.PostForm("service_id"), 10, 64)
	qty, err := strconv.Atoi(strings.TrimSpace(c.PostForm("quantity")))
	if err != nil {
		qty = 0
	}
	it, err := s.marketplace.AddToCart(c.Request.Context(), httpx.CurrentUser(c), id, qty)
	if err != nil {
		he, msg := refusal(c, err)
		if he.Status >= 500 {
			return err
		}
		setFlash(c, "danger", "cart.refused", msg)
		if id > 0 {
			redirect(c, "/services/"+strconv.FormatInt(id, 10))
		} else {
			redirect(c, "/services")
		}
		return nil
	}
	setFlash(c, "success", "cart.added", it.Service.Name)
	redirect(c, "/cart")
	return nil
}

func (s *Site) cartQuantitySubmit(c *gin.Context) error {
	id, err := httpx.CartServiceID(c)
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.PostForm("quantity"))
	qty, perr := strconv.Atoi(raw)
	if perr != nil {
		qty = 0
	}
	if _, err := s.marketplace.SetCartQuantity(c.Request.Context(), httpx.CurrentUser(c), id, qty); err != nil {
		he, msg := refusal(c, err)
		if he.Status == http.StatusUnprocessableEntity {
			bad := &cartLineView{cartLine: cartLine{CartItem: store.CartItem{ServiceID: id}}}
			bad.Qty.Value, bad.Qty.Error = raw, msg
			return s.renderCart(c, he.Status, bad)
		}
		if he.Status >= 500 {
			return err
		}
		setFlash(c, "danger", "cart.refused", msg)
		redirect(c, "/cart")
		return nil
	}
	setFlash(c, "success", "cart.updated")
	redirect(c, "/cart")
	return nil
}

func (s *Site) cartRemoveSubmit(c *gin.Context) error {
	id, err := httpx.CartServiceID(c)
	if err != nil {
		return err
	}
	if err := s.marketplace.RemoveFromCart(c.Request.Context(), httpx.CurrentUser(c), id); err != nil && httpx.From(err).Status != http.StatusNotFound {
		return err
	}
	setFlash(c, "success", "cart.removed")
	redirect(c, "/cart")
	return nil
}

// ---- checkout ----

type voucherOption struct {
	store.ServiceVoucher
	Checked bool
}

type checkoutData struct {
	Line                   cartLineView
	Vouchers               []voucherOption
	Payment                string
	Key                    string
	VoucherPart            fieldView
	PaymentErr, VoucherErr string
	Problem                string
	// The company welfare credit usable for the line (nil: none) and the
	// split a funders checkout makes now with it and the voucher checked
	// (none: no voucher), sent back as expected.
	Company    *store.CompanyCreditOption
	Split      funding.Shares
	CompanyErr string
	NoVoucher  bool // "no voucher" chosen (offered with the company credit)
}

// withSplit computes the split shown for a funders checkout with the
// voucher checked (marketplace.Split, the domain's rule).
func (d *checkoutData) withSplit(l cartLine) {
	if d.Company == nil {
		return
	}
	var chosen *store.ServiceVoucher
	for i := range d.Vouchers {
		if d.Vouchers[i].Checked {
			chosen = &l.Vouchers[i]
		}
	}
	d.Split = marketplace.Split(l.TotalCents, d.Company, chosen)
}

// checkoutLine finds the cart line of :service_id (404 when not in the cart).
func (s *Site) checkoutLine(c *gin.Context) (cartLine, error) {
	id, err := httpx.CartServiceID(c)
	if err != nil {
		return cartLine{}, err
	}
	lines, _, err := s.marketplace.Cart(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return cartLine{}, err
	}
	for _, l := range lines {
		if l.ServiceID == id && l.Available {
			return l, nil
		}
	}
	return cartLine{}, httpx.NotFound("cart item")
}

func (s *Site) newCheckoutData(c *gin.Context, l cartLine) checkoutData {
	d := checkoutData{Line: s.cartLineView(c, l), Key: newFormToken(), Payment: store.PayOnline,
		VoucherPart: fieldView{Name: "voucher_part", ID: "voucher-part", Label: s.t(c, "checkout.voucher_part"),
			Hint: s.t(c, "checkout.voucher_part_hint"), Extra: map[string]string{"inputmode": "decimal"}}}
	for i, v := range l.Vouchers {
		d.Vouchers = append(d.Vouchers, voucherOption{ServiceVoucher: v, Checked: i == 0})
	}
	if len(l.Vouchers) > 0 {
		d.Payment = store.PaySplit
		if l.Vouchers[0].AvailableCents >= l.TotalCents {
			d.Payment = store.PayVoucher
		}
	}
	if l.CompanyCredit != nil {
		// Offered, not chosen for the person: which funders pay is theirs
		// to decide.
		d.Company = l.CompanyCredit
		d.withSplit(l)
	}
	return d
}

func (s *Site) renderCheckout(c *gin.Context, status int, d checkoutData) error {
	v := view{Title: s.t(c, "checkout.title", d.Line.Service.Name), Nav: "cart",
		Crumbs: []crumb{{Href: "/cart", Text: s.t(c, "cart.title")}}, Data: d}
	if d.PaymentErr != "" {
		v.Errors = append(v.Errors, summaryItem{Href: "#pay-" + d.Payment, Text: s.t(c, "checkout.how") + ": " + d.PaymentErr})
	}
	if d.VoucherErr != "" {
		v.Errors = append(v.Errors, summaryItem{Href: "#voucher-0", Text: s.t(c, "checkout.voucher") + ": " + d.VoucherErr})
	}
	if d.VoucherPart.Error != "" {
		v.Errors = append(v.Errors, summaryItem{Href: "#voucher-part", Text: d.VoucherPart.Label + ": " + d.VoucherPart.Error})
	}
	if d.CompanyErr != "" {
		v.Errors = append(v.Errors, summaryItem{Href: "#pay-funders", Text: s.t(c, "checkout.company") + ": " + d.CompanyErr})
	}
	s.render(c, status, "checkout", v)
	return nil
}

func (s *Site) checkoutPage(c *gin.Context) error {
	l, err := s.checkoutLine(c)
	if err != nil {
		return err
	}
	return s.renderCheckout(c, http.StatusOK, s.newCheckoutData(c, l))
}

func (s *Site) checkoutSubmit(c *gin.Context) error {
	id, err := httpx.CartServiceID(c)
	if err != nil {
		return err
	}
	if c.PostForm("action") == "recalculate" {
		return s.checkoutRecalculate(c, id)
	}
	req := checkoutRequest{ServiceID: id, Payment: c.PostForm("payment")}
	if req.Payment != store.PayOnline {
		req.VoucherID = c.PostForm("voucher_id")
	}
	if req.Payment == store.PayFunders {
		// The split shown is expected: a balance changed since, or another
		// voucher chosen than the one it was computed with, gives another
		// split, and the page shows it for the person to confirm (409).
		req.CompanyCredit, req.Expected = true, postedSplit(c)
	}
	part := strings.TrimSpace(c.PostForm("voucher_part"))
	var partErr string
	if req.Payment == store.PaySplit {
		if cents, ok := parseEuroInput(part); ok {
			req.VoucherCents = cents
		} else {
			partErr = s.t(c, "checkout.voucher_part_invalid")
		}
	}
	key := postedKey(c)
	if partErr == "" {
		res, err := s.marketplace.Checkout(c.Request.Context(), httpx.CurrentUser(c), req, key)
		if err == nil {
			b := res.Booking
			if b.OnlineCents > 0 {
				redirect(c, "/bookings/"+url.PathEscape(b.ID)+"/pay")
				return nil
			}
			setFlash(c, "success", "checkout.done", strconv.FormatInt(b.Number, 10))
			redirect(c, "/bookings/"+url.PathEscape(b.ID))
			return nil
		}
		he, msg := refusal(c, err)
		if he.Status != http.StatusUnprocessableEntity && he.Status != http.StatusConflict {
			return err
		}
		if he.Code == "not_in_cart" {
			setFlash(c, "warning", "cart.refused", msg)
			redirect(c, "/cart")
			return nil
		}
		d, lerr := s.refilledCheckout(c, req, key, part)
		if lerr != nil {
			return lerr
		}
		d.refused(c, he, msg)
		return s.renderCheckout(c, he.Status, d)
	}
	d, err := s.refilledCheckout(c, req, key, part)
	if err != nil {
		return err
	}
	d.VoucherPart.Error = partErr
	return s.renderCheckout(c, http.StatusUnprocessableEntity, d)
}

// refused shows a refused checkout's problems at their fields (msg: the
// refusal's message, shown above the form for a conflict).
func (d *checkoutData) refused(c *gin.Context, he *httpx.Error, msg string) {
	for _, f := range he.Fields {
		m := f.In(pageLang(c))
		switch f.Pointer {
		case "/payment":
			d.PaymentErr = m
		case "/voucher_id":
			d.VoucherErr = m
		case "/voucher_cents":
			d.VoucherPart.Error = m
		case "/company_credit":
			d.CompanyErr = m
		default:
			d.Problem = m
		}
	}
	if he.Status == http.StatusConflict {
		d.Problem = msg
	}
}

// checkoutRecalculate shows the checkout again with the split of the
// funders now chosen (marketplace.PreviewSplit, the preview of the JSON
// API's POST /bookings/split-preview), booking nothing: the "Recalculate"
// button without JavaScript, and the request htmx sends when the choice
// changes (it takes the split's region from the page: #split-body).
func (s *Site) checkoutRecalculate(c *gin.Context, id int64) error {
	req := checkoutRequest{ServiceID: id, Payment: c.PostForm("payment"), VoucherID: strings.TrimSpace(c.PostForm("voucher_id"))}
	d, err := s.refilledCheckout(c, req, postedKey(c), strings.TrimSpace(c.PostForm("voucher_part")))
	if err != nil {
		return err
	}
	if d.Company == nil { // no split to show: the page as it is
		return s.renderCheckout(c, http.StatusOK, d)
	}
	p, err := s.marketplace.PreviewSplit(c.Request.Context(), httpx.CurrentUser(c),
		marketplace.SplitInput{ServiceID: id, VoucherID: req.VoucherID, CompanyCredit: true})
	if err != nil {
		he, msg := refusal(c, err)
		if he.Status != http.StatusUnprocessableEntity {
			return err
		}
		d.refused(c, he, msg)
		return s.renderCheckout(c, he.Status, d)
	}
	d.Split = p.Split
	return s.renderCheckout(c, http.StatusOK, d)
}

// refilledCheckout is the checkout form again with what the citizen sent.
func (s *Site) refilledCheckout(c *gin.Context, req checkoutRequest, key, part string) (checkoutData, error) {
	l, err := s.checkoutLine(c)
	if err != nil {
		return checkoutData{}, err
	}
	d := s.newCheckoutData(c, l)
	d.Key, d.Payment, d.VoucherPart.Value = key, req.Payment, part
	for i := range d.Vouchers {
		d.Vouchers[i].Checked = d.Vouchers[i].ID == req.VoucherID
	}
	d.NoVoucher = d.Company != nil && req.VoucherID == ""
	d.withSplit(l)
	return d, nil
}

// postedSplit reads the split the checkout page showed (nil when it sent
// none, or one that is not whole cents).
func postedSplit(c *gin.Context) *funding.Shares {
	var sh funding.Shares
	for _, f := range []struct {
		name string
		to   *int64
	}{{"split_company", &sh.CompanyCents}, {"split_voucher_cents", &sh.VoucherCents}, {"split_online", &sh.OnlineCents}} {
		v, err := strconv.ParseInt(strings.TrimSpace(c.PostForm(f.name)), 10, 64)
		if err != nil {
			return nil
		}
		*f.to = v
	}
	return &sh
}

// ---- payment ----

// payPath is the page that waits for the booking's payment.
func payPath(id string) string { return "/bookings/" + url.PathEscape(id) + "/pay" }

// awaitingPayment says whether the citizen still has to pay b online (a
// payment that failed is the workflow's to follow up, not the pay page's).
func awaitingPayment(b store.BookingView) bool {
	return b.OnlineCents > 0 && b.Status == workflows.BookingAwaitingPayment &&
		(b.PaymentStatus == "none" || b.PaymentStatus == "pending")
}

// payPage waits for the payment the workflow creates: it refreshes itself
// (htmx polling, or a meta refresh without JavaScript) and, once the
// provider's page is known, sends the citizen there. The redirect to the
// provider only answers the refresh (?go=1) or the poll, never the
// checkout's form post: the pages' form-action policy would block it.
func (s *Site) payPage(c *gin.Context) error {
	b, err := s.marketplace.Booking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if !awaitingPayment(b) {
		redirect(c, "/bookings/"+url.PathEscape(b.ID))
		return nil
	}
	if b.PaymentURL != "" && c.Query("go") == "1" {
		c.Redirect(http.StatusSeeOther, b.PaymentURL)
		c.Abort()
		return nil
	}
	s.render(c, http.StatusOK, "booking_pay", view{Title: s.t(c, "pay.title", b.Number), Nav: "bookings",
		Crumbs: []crumb{{Href: "/bookings", Text: s.t(c, "bk.list.title")}},
		Meta:   map[string]any{"refresh": "3;url=" + payPath(b.ID) + "?go=1"},
		Data:   map[string]any{"B": b, "Ready": b.PaymentURL != ""}})
	return nil
}

// payStatus answers the pay page's poll: 204 while waiting, else an
// HX-Redirect to the provider (or to the booking when nothing is due).
func (s *Site) payStatus(c *gin.Context) error {
	b, err := s.marketplace.Booking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	switch {
	case !awaitingPayment(b):
		c.Header("HX-Redirect", "/bookings/"+url.PathEscape(b.ID))
	case b.PaymentURL != "":
		c.Header("HX-Redirect", b.PaymentURL)
	default:
		c.Status(http.StatusNoContent)
		return nil
	}
	c.Status(http.StatusOK)
	return nil
}

// payReturnPage is where the provider sends the citizen back: the outcome
// as the provider reported it, and the booking's state as recorded.
func (s *Site) payReturnPage(c *gin.Context) error {
	b, err := s.marketplace.Booking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	outcome := "pending"
	switch {
	case b.PaymentStatus == "paid" || c.Query("status") == "captured":
		outcome = "paid"
	case c.Query("status") == "canceled" || b.PaymentStatus == "failed":
		outcome = "canceled"
	}
	s.render(c, http.StatusOK, "booking_return", view{Title: s.t(c, "pay.return."+outcome), Nav: "bookings",
		Crumbs: []crumb{{Href: "/bookings", Text: s.t(c, "bk.list.title")}},
		Data:   map[string]any{"B": b, "Outcome": outcome, "CanPay": outcome != "paid" && awaitingPayment(b)}})
	return nil
}

// ---- bookings ----

func (s *Site) bookingsPage(c *gin.Context) error {
	items, total, err := s.marketplace.Bookings(c.Request.Context(), httpx.CurrentUser(c), 200, 0)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "bookings", view{Title: s.t(c, "bk.list.title"), Nav: "bookings",
		Data: map[string]any{"Items": items, "Total": total}})
	return nil
}

type bookingPageData struct {
	B          store.BookingView
	QuoteText  string
	Unit       string
	Key        string
	Reason     fieldView
	CanCancel  bool
	Delivered  []store.BookingSession // delivered, not confirmed yet
	Problem    string
	ConfirmErr string
	CanPay     bool
	Returned   funding.Shares // what each funder got back for cancelled sessions
}

func (s *Site) bookingPageData(c *gin.Context, b store.BookingView) bookingPageData {
	d := bookingPageData{B: b, Unit: s.t(c, "cat.unit."+b.Unit), Key: newFormToken(), Returned: marketplace.Returned(b),
		Reason:    fieldView{Name: "reason", ID: "reason", Label: s.t(c, "bk.cancel.reason"), Extra: map[string]string{"maxlength": "1000"}},
		CanCancel: b.Status != workflows.BookingCompleted && b.Status != workflows.BookingCancelled,
		CanPay:    awaitingPayment(b)}
	var q store.PriceQuote
	if json.Unmarshal([]byte(b.PriceBasis), &q) == nil {
		d.QuoteText = quoteText(pageLang(c), q)
	}
	for _, ss := range b.Sessions {
		if ss.Status == contract.SessionDelivered {
			d.Delivered = append(d.Delivered, ss)
		}
	}
	return d
}

func (s *Site) renderBooking(c *gin.Context, status int, d bookingPageData) error {
	v := view{Title: s.t(c, "bk.title", d.B.Number), Nav: "bookings",
		Crumbs: []crumb{{Href: "/bookings", Text: s.t(c, "bk.list.title")}}, Data: d}
	if d.Reason.Error != "" {
		v.Errors = append(v.Errors, summaryItem{Href: "#reason", Text: d.Reason.Label + ": " + d.Reason.Error})
	}
	if d.ConfirmErr != "" && len(d.Delivered) > 0 {
		v.Errors = append(v.Errors, summaryItem{Href: "#seq-" + strconv.Itoa(d.Delivered[0].Seq), Text: s.t(c, "bk.confirm.legend") + ": " + d.ConfirmErr})
	}
	s.render(c, status, "booking", v)
	return nil
}

func (s *Site) bookingPage(c *gin.Context) error {
	b, err := s.marketplace.Booking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderBooking(c, http.StatusOK, s.bookingPageData(c, b))
}

// bookingRefused re-renders the booking after a refused action.
func (s *Site) bookingRefused(c *gin.Context, err error, fill func(d *bookingPageData, msg string)) error {
	he, msg := refusal(c, err)
	if he.Status != http.StatusUnprocessableEntity && he.Status != http.StatusConflict {
		return err
	}
	b, berr := s.marketplace.Booking(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if berr != nil {
		return berr
	}
	d := s.bookingPageData(c, b)
	if he.Status == http.StatusConflict {
		d.Problem = msg
	} else {
		fill(&d, msg)
	}
	return s.renderBooking(c, he.Status, d)
}

func (s *Site) bookingCancelSubmit(c *gin.Context) error {
	reason := c.PostForm("reason")
	_, err := s.marketplace.Cancel(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), marketplace.CancelInput{Reason: reason}, postedKey(c))
	if err == nil {
		setFlash(c, "success", "bk.cancelled")
		redirect(c, "/bookings/"+url.PathEscape(c.Param("id")))
		return nil
	}
	return s.bookingRefused(c, err, func(d *bookingPageData, msg string) { d.Reason.Value, d.Reason.Error = reason, msg })
}

func (s *Site) bookingConfirmSubmit(c *gin.Context) error {
	var req marketplace.ConfirmInput
	for _, v := range c.PostFormArray("seq") {
		if n, err := strconv.Atoi(v); err == nil {
			req.Seqs = append(req.Seqs, n)
		}
	}
	_, err := s.marketplace.ConfirmDelivery(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req, postedKey(c))
	if err == nil {
		setFlash(c, "success", "bk.confirmed")
		redirect(c, "/bookings/"+url.PathEscape(c.Param("id")))
		return nil
	}
	return s.bookingRefused(c, err, func(d *bookingPageData, msg string) { d.ConfirmErr = msg })
}
