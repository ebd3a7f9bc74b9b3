package contract

import "testing"

func TestBookingStatusFromSessions(t *testing.T) {
	for _, c := range []struct {
		current  string
		sessions []string
		want     string
	}{
		{BookingRequested, []string{SessionPlanned, SessionPlanned}, BookingRequested},
		{BookingRequested, []string{SessionCancelled, SessionCancelled}, BookingCancelled},
		{BookingConfirmed, nil, BookingCancelled},
		{BookingConfirmed, []string{SessionDelivered, SessionPlanned}, BookingConfirmed},
		{BookingConfirmed, []string{SessionDelivered, SessionCancelled}, BookingDelivered},
		{BookingConfirmed, []string{SessionDelivered, SessionConfirmed}, BookingDelivered},
		{BookingDelivered, []string{SessionConfirmed, SessionCancelled}, BookingCompleted},
		{BookingDelivered, []string{SessionConfirmed, SessionConfirmed}, BookingCompleted},
		{BookingConfirmed, []string{SessionCancelled, SessionPlanned}, BookingConfirmed},
	} {
		if got := BookingStatusFromSessions(c.current, c.sessions); got != c.want {
			t.Errorf("%s with sessions %v: %s, want %s", c.current, c.sessions, got, c.want)
		}
	}
}

func TestBookingStatusRequestable(t *testing.T) {
	for current, want := range map[string]string{
		BookingAwaitingPayment: BookingRequested,
		BookingRequested:       BookingRequested,
		BookingConfirmed:       BookingConfirmed,
		BookingCancelled:       BookingCancelled,
	} {
		if got := BookingStatusRequestable(current); got != want {
			t.Errorf("%s: %s, want %s", current, got, want)
		}
	}
}
