-- Throttling of logins and activations (issue 10): failed attempts per
-- account and per client address, shared by every API replica. A key is a
-- SHA-256 of its kind and value (no typed username or address is kept in
-- clear); a row lives while it counts, and is removed after a success or
-- once it has been quiet for a day (clean-up on each failure), so the table
-- holds only the recent failures.
CREATE TABLE login_throttle (
  key            bytea PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('login_account', 'login_address', 'activation_account', 'activation_address')),
  failures       integer NOT NULL CHECK (failures > 0),
  blocked_until  timestamptz,                     -- NULL: not blocked
  last_failure   timestamptz NOT NULL
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO sportello_app;

-- Staff sessions end after a while without requests: the last request is
-- noted (at most about once a minute per session, not on every request).
ALTER TABLE auth_sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();

-- A throttled login for an account nobody has is audited without a district.
ALTER TABLE audit_log ALTER COLUMN district_id DROP NOT NULL;

---- create above / drop below ----

-- audit_log.district_id stays nullable: rows written without one are kept.
DROP TABLE login_throttle;
ALTER TABLE auth_sessions DROP COLUMN last_seen_at;
