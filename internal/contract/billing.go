package contract

// Invoice kinds and statuses (invoices.kind, invoices.status): the billing
// workflow keeps an invoice's status and waits on it.
const (
	InvoiceCooperative = "cooperative"
	InvoiceMerchant    = "merchant"

	InvoiceAwaitingDeclaration = "awaiting_declaration"
	InvoiceReady               = "ready"
	InvoiceSent                = "sent"
	InvoicePaid                = "paid"
)

// PreparedInvoice is the outcome of the PrepareInvoice activity. Its JSON
// names are recorded in billing histories: never rename one.
type PreparedInvoice struct {
	ID         string `json:"id"`
	Number     int64  `json:"number"`
	Status     string `json:"status"`
	TotalCents int64  `json:"total_cents"`
	Lines      int    `json:"lines"`
	Empty      bool   `json:"empty"` // nothing to bill: no invoice was made
}
