-- The bookings' read policy evaluated once per statement (the "speed"
-- issue, booking saga row).
--
-- bookings_read of 010 called booking_visible() for every row, and with it
-- sportello_cooperative(), a lookup in users, for every booking a
-- cooperative's inbox or the saga's reads looked at. Here each setting is
-- an initplan, `(SELECT f())`, computed once per statement, as the cases'
-- policy of 003 does; only the offer check, which depends on the row, stays
-- per row, and only for a cooperative's bookings held by someone else.
-- Who sees what does not change: the same four scopes and the cooperative
-- rule of booking_visible().

DROP POLICY bookings_read ON bookings;
CREATE POLICY bookings_read ON bookings FOR SELECT
  USING (CASE (SELECT sportello_scope())
    WHEN 'system'      THEN true
    WHEN 'supervisor'  THEN district_id = (SELECT sportello_district())
    WHEN 'operator'    THEN district_id = (SELECT sportello_district())
                            AND municipality_id = (SELECT sportello_municipality())
    WHEN 'citizen'     THEN coalesce(citizen_id = (SELECT sportello_user()), false)
    WHEN 'cooperative' THEN coalesce(cooperative_id = (SELECT sportello_cooperative()), false)
                            OR booking_offered_to_me(id)
    ELSE false
  END);

---- create above / drop below ----

DROP POLICY bookings_read ON bookings;
CREATE POLICY bookings_read ON bookings FOR SELECT
  USING (booking_visible(id, district_id, municipality_id, citizen_id, cooperative_id));
