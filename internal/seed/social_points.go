package seed

import (
	"context"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// SocialPoints are the listening desks of the Tradate district (demo data
// that looks real: addresses of the town halls and social services, hours
// as such desks keep them, 30-minute appointments).
func SocialPoints() []store.SocialPoint {
	h := func(weekday int, opens, closes string) store.OpeningHours {
		return store.OpeningHours{Weekday: weekday, Opens: opens, Closes: closes}
	}
	return []store.SocialPoint{
		{ID: "sp-tradate", District: "tradate", Municipality: "tradate", Name: "Social Point di Tradate",
			Address: "Piazza Mazzini 6, 21049 Tradate (VA)", Phone: "0331 826811", Email: "socialpoint@comune.tradate.example",
			SlotMinutes: 30, Hours: []store.OpeningHours{
				h(1, "09:00", "12:30"), h(1, "14:00", "17:00"),
				h(3, "09:00", "12:30"),
				h(4, "14:00", "18:00"),
				h(5, "09:00", "12:00"),
			}},
		{ID: "sp-vedano-olona", District: "tradate", Municipality: "vedano-olona", Name: "Social Point di Vedano Olona",
			Address: "Via Mazzini 2, 21040 Vedano Olona (VA)", Phone: "0332 867711", Email: "socialpoint@comune.vedano-olona.example",
			SlotMinutes: 30, Hours: []store.OpeningHours{
				h(2, "09:00", "12:00"),
				h(4, "09:00", "12:00"), h(4, "15:00", "17:30"),
			}},
		{ID: "sp-venegono-superiore", District: "tradate", Municipality: "venegono-superiore", Name: "Social Point di Venegono Superiore",
			Address: "Piazza Giovanni XXIII 1, 21040 Venegono Superiore (VA)", Phone: "0331 828411",
			Email:       "socialpoint@comune.venegono-superiore.example",
			SlotMinutes: 30, Hours: []store.OpeningHours{
				h(1, "14:30", "17:30"),
				h(3, "09:00", "12:00"), h(3, "14:30", "16:30"),
			}},
	}
}

// seedSocialPoints upserts the Social Points and their opening hours.
func seedSocialPoints(ctx context.Context, tx pgx.Tx) error {
	for _, p := range SocialPoints() {
		if err := store.UpsertSocialPoint(ctx, tx, p); err != nil {
			return err
		}
	}
	return nil
}
