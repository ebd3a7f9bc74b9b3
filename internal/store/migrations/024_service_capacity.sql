-- The capacity of a service (issue 16): the units its cooperative can
-- deliver per week or per month. A checkout counts the units already booked
-- for the service in the current period (Europe/Rome), cancelled bookings
-- excepted, and refuses one that would go beyond the capacity. Citizens
-- cannot see other citizens' bookings (row-level security), so the count is
-- read past it, as the tables' owner; it says a number, nothing else.
-- Checkouts of one service are serialised by an advisory lock taken in the
-- same transaction (internal/store/capacity.go).
CREATE FUNCTION service_capacity_left(service bigint) RETURNS integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT s.capacity - coalesce((SELECT sum(b.quantity) FROM bookings b
      WHERE b.service_id = s.id AND b.status <> 'cancelled'
        AND b.created_at >= (date_trunc(s.capacity_period, now() AT TIME ZONE 'Europe/Rome') AT TIME ZONE 'Europe/Rome')), 0)::integer
  FROM services s WHERE s.id = service
$$;
REVOKE ALL ON FUNCTION service_capacity_left(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION service_capacity_left(bigint) TO sportello_app;

---- create above / drop below ----

DROP FUNCTION service_capacity_left(bigint);
