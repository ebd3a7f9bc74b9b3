-- Sign-in like the national systems and recovery by e-mail (issue 16).
--
-- oidc_logins: a login started at the OpenID Connect provider (SPID/CIE
-- style) and not yet come back. The key is the SHA-256 of the state the
-- browser carries; the row holds the nonce and the PKCE verifier, and is
-- consumed (deleted) by the one callback that presents its state, so a
-- replayed or tampered callback finds nothing. Kept in PostgreSQL so that
-- every API replica can finish a login another one started.
CREATE TABLE oidc_logins (
  state_hash  bytea PRIMARY KEY,
  nonce       text NOT NULL,
  verifier    text NOT NULL,
  next        text NOT NULL DEFAULT '/',
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX oidc_logins_expiry ON oidc_logins (expires_at);
GRANT SELECT, INSERT, DELETE ON oidc_logins TO sportello_app;

-- How a session was opened, and with which level of assurance (the acr of
-- the identity provider, e.g. https://www.spid.gov.it/SpidL2).
ALTER TABLE auth_sessions
  ADD COLUMN method text NOT NULL DEFAULT 'password' CHECK (method IN ('password', 'oidc')),
  ADD COLUMN loa    text CHECK (loa IS NULL OR length(loa) <= 200);

-- Password reset by e-mail: one live link per account (a new request
-- revokes the previous one), kept only as a hash, short-lived, used once.
CREATE TABLE password_resets (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  CHECK (created_at < expires_at)
);
CREATE UNIQUE INDEX password_resets_live ON password_resets (user_id) WHERE used_at IS NULL AND revoked_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON password_resets TO sportello_app;
GRANT USAGE, SELECT ON SEQUENCE password_resets_id_seq TO sportello_app;

-- Requests of a reset link are throttled per account and per address.
ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_kind_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_kind_check
  CHECK (kind IN ('login_account', 'login_address', 'activation_account', 'activation_address',
                  'reset_account', 'reset_address'));

---- create above / drop below ----

DELETE FROM login_throttle WHERE kind IN ('reset_account', 'reset_address');
ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_kind_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_kind_check
  CHECK (kind IN ('login_account', 'login_address', 'activation_account', 'activation_address'));
DROP TABLE password_resets;
ALTER TABLE auth_sessions DROP COLUMN loa, DROP COLUMN method;
DROP TABLE oidc_logins;
