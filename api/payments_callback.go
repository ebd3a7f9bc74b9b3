package api

import (
	"github.com/gin-gonic/gin"

	"sportello/internal/payments"
)

// paymentsCallback receives the payment provider's signed events
// (payments.CallbackHandler: 400 for a bad signature or body, 204 when
// handled, 409 when the provider does not confirm the event's claim, 500
// asks the provider to retry). The marketplace service handles each event
// (marketplace.Service.PaymentEvent: confirmed with the provider, signalled
// to the booking's workflow, a late payment refunded).
func (s *server) paymentsCallback() gin.HandlerFunc {
	return gin.WrapH(payments.CallbackHandler(s.PaymentsSecret, 0, s.log, s.marketplace.PaymentEvent))
}
