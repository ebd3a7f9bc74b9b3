-- Registration at the desk (issue 4): an operator of a Social Point
-- registers a citizen who cannot do it alone, hands over a one-time
-- activation code, files applications on the citizen's behalf; citizens
-- without e-mail are reached through contact tasks of the Social Point.

-- A citizen registered at the desk waits for activation until they choose
-- a password with their activation code. Phone, postal address and the wish
-- to have vouchers and letters delivered at home serve the Social Point.
ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active'
  CHECK (status IN ('active', 'pending_activation'));
ALTER TABLE users ADD COLUMN phone text;
ALTER TABLE users ADD COLUMN postal_address text;
ALTER TABLE users ADD COLUMN home_delivery boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN registered_by bigint REFERENCES users(id);
ALTER TABLE users ADD COLUMN registered_at timestamptz;
-- One account per citizen: a tax code registered twice is a conflict.
CREATE UNIQUE INDEX users_citizen_tax_code ON users (tax_code) WHERE role = 'citizen' AND tax_code IS NOT NULL;

-- One-time activation codes, kept only as hashes. At most one live code per
-- user (a re-issue revokes the previous one); too many wrong attempts lock it.
CREATE TABLE activation_codes (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash   bytea NOT NULL,
  issued_by   bigint REFERENCES users(id),
  issued_at   timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  failures    integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  locked_at   timestamptz,
  used_at     timestamptz,
  revoked_at  timestamptz,
  CHECK (issued_at < expires_at)
);
CREATE UNIQUE INDEX activation_codes_live ON activation_codes (user_id) WHERE used_at IS NULL AND revoked_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON activation_codes TO sportello_app;
GRANT USAGE, SELECT ON SEQUENCE activation_codes_id_seq TO sportello_app;

-- A contact task (tasks.kind = 'contact') is what the Social Point must
-- tell a citizen without e-mail: one per notification key. It is not a
-- workflow step: the store opens and closes it.
CREATE TABLE contact_tasks (
  task_id            uuid PRIMARY KEY REFERENCES tasks(id),
  notification_key   text NOT NULL UNIQUE,
  notification_kind  text NOT NULL,
  citizen_id         bigint NOT NULL REFERENCES users(id),
  channel            text NOT NULL CHECK (channel IN ('phone', 'letter')),
  phone              text NOT NULL DEFAULT '',
  address            text NOT NULL DEFAULT '',
  home_delivery      boolean NOT NULL DEFAULT false,
  message_it         text NOT NULL,
  attempts           integer NOT NULL DEFAULT 0,
  last_outcome       text CHECK (last_outcome IN ('phoned', 'letter_sent', 'delivered_home', 'unreachable')),
  last_note          text NOT NULL DEFAULT ''
);
CREATE INDEX contact_tasks_citizen ON contact_tasks (citizen_id);
-- What a scope may see of a contact task is what it may see of its task.
ALTER TABLE contact_tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY contact_tasks_tenant ON contact_tasks
  USING (EXISTS (SELECT 1 FROM tasks t WHERE t.id = task_id))
  WITH CHECK (EXISTS (SELECT 1 FROM tasks t WHERE t.id = task_id));
GRANT SELECT, INSERT, UPDATE ON contact_tasks TO sportello_app;

---- create above / drop below ----

DROP TABLE contact_tasks;
DROP TABLE activation_codes;
DROP INDEX users_citizen_tax_code;
ALTER TABLE users DROP COLUMN registered_at, DROP COLUMN registered_by, DROP COLUMN home_delivery,
  DROP COLUMN postal_address, DROP COLUMN phone, DROP COLUMN status;
