-- Casework that scales (issue 4): withdrawn cases, task kinds for four eyes and
-- Social Point contacts, reminders and priority, per-fund four-eyes threshold
-- and reply deadline, and the notification outbox.

ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
  CHECK (status IN ('submitted','in_review','info_requested','approved','rejected','closed','withdrawn'));

ALTER TABLE tasks ADD COLUMN candidate_role text NOT NULL DEFAULT 'operator'
  CHECK (candidate_role IN ('operator','supervisor'));
ALTER TABLE tasks ADD COLUMN priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal','high'));
ALTER TABLE tasks ADD COLUMN reminded_at timestamptz;
ALTER TABLE tasks ADD COLUMN note text;
ALTER TABLE tasks ADD CONSTRAINT tasks_kind_check CHECK (kind IN ('review','second_approval','contact'));

-- Four eyes: an approval above this amount needs a second decision by a
-- supervisor other than the first approver (NULL: never; 0: always).
ALTER TABLE funds ADD COLUMN four_eyes_above_cents bigint CHECK (four_eyes_above_cents >= 0);
-- Working days a citizen has to answer a request for information.
ALTER TABLE funds ADD COLUMN info_reply_working_days integer NOT NULL DEFAULT 10 CHECK (info_reply_working_days > 0);

-- Every notification the platform sends, once per key.
CREATE TABLE notifications (
  id            bigserial PRIMARY KEY,
  key           text NOT NULL UNIQUE,
  case_id       text REFERENCES cases(id),
  kind          text NOT NULL,
  channel       text NOT NULL CHECK (channel IN ('email','social_point')),
  recipient     text NOT NULL,
  lang          text NOT NULL DEFAULT 'it',
  subject       text NOT NULL DEFAULT '',
  status        text NOT NULL CHECK (status IN ('pending','sent','failed')),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz
);
CREATE INDEX notifications_case ON notifications (case_id, created_at);
GRANT SELECT, INSERT, UPDATE ON notifications TO sportello_app;
GRANT USAGE, SELECT ON SEQUENCE notifications_id_seq TO sportello_app;

---- create above / drop below ----

DROP TABLE notifications;
ALTER TABLE funds DROP COLUMN info_reply_working_days, DROP COLUMN four_eyes_above_cents;
ALTER TABLE tasks DROP CONSTRAINT tasks_kind_check;
ALTER TABLE tasks DROP COLUMN note, DROP COLUMN reminded_at, DROP COLUMN priority, DROP COLUMN candidate_role;
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
  CHECK (status IN ('submitted','in_review','info_requested','approved','rejected','closed'));
