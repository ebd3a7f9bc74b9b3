-- The count of a service's places left, with its plan kept (issue 12;
-- docs/benchmarks.md, booking saga, "Fourth pass").
--
-- service_capacity_left (migration 024) was a SQL function with its own
-- search_path: PostgreSQL can neither inline such a function nor keep its
-- plan, so every checkout planned its count afresh (0.9 ms of a checkout's
-- 4). In PL/pgSQL the plan is kept per connection, as 027 did for
-- sportello_cooperative(). Same arguments, same result, same rights.
CREATE OR REPLACE FUNCTION service_capacity_left(service bigint) RETURNS integer
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
  RETURN (SELECT s.capacity - coalesce((SELECT sum(b.quantity) FROM bookings b
      WHERE b.service_id = s.id AND b.status <> 'cancelled'
        AND b.created_at >= (date_trunc(s.capacity_period, now() AT TIME ZONE 'Europe/Rome') AT TIME ZONE 'Europe/Rome')), 0)::integer
    FROM services s WHERE s.id = service);
END
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION service_capacity_left(service bigint) RETURNS integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT s.capacity - coalesce((SELECT sum(b.quantity) FROM bookings b
      WHERE b.service_id = s.id AND b.status <> 'cancelled'
        AND b.created_at >= (date_trunc(s.capacity_period, now() AT TIME ZONE 'Europe/Rome') AT TIME ZONE 'Europe/Rome')), 0)::integer
  FROM services s WHERE s.id = service
$$;
