-- Teams (candidate groups), automatic assignment and delegation (issue 4).
-- A team belongs to a district and, optionally, one municipality; its members
-- are staff. Which team reviews which fund is configuration (funds.team_id);
-- a task carries its team from the fund when it opens. Automatic assignment
-- (least loaded) is switched on per fund or per team. An absence (out of
-- office) hands the absent person's tasks to a delegate for a time range.

CREATE TABLE teams (
  id               text PRIMARY KEY,
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text REFERENCES municipalities(id),
  name             text NOT NULL,
  auto_assign      boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (district_id, name)
);

CREATE TABLE team_members (
  team_id  text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

ALTER TABLE funds ADD COLUMN team_id text REFERENCES teams(id);
ALTER TABLE funds ADD COLUMN auto_assign boolean NOT NULL DEFAULT false;
ALTER TABLE tasks ADD COLUMN team_id text REFERENCES teams(id);
CREATE INDEX tasks_team ON tasks (team_id, status, due_at) WHERE team_id IS NOT NULL;
-- The load of a person: their claimed tasks.
CREATE INDEX tasks_claimed_by ON tasks (claimed_by, status) WHERE claimed_by IS NOT NULL;

-- Absences: [starts_at, ends_at). Status follows the delegation workflow.
CREATE TABLE absences (
  id               uuid PRIMARY KEY,
  district_id      text NOT NULL REFERENCES districts(id),
  municipality_id  text REFERENCES municipalities(id), -- the absent person's (NULL for a supervisor)
  user_id          bigint NOT NULL REFERENCES users(id),
  delegate_id      bigint NOT NULL REFERENCES users(id),
  starts_at        timestamptz NOT NULL,
  ends_at          timestamptz NOT NULL,
  reason           text NOT NULL,
  status           text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled','active','ended','cancelled')),
  created_by       bigint NOT NULL REFERENCES users(id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  cancelled_by     bigint REFERENCES users(id),
  cancelled_at     timestamptz,
  CHECK (starts_at < ends_at),
  CHECK (user_id <> delegate_id)
);
CREATE INDEX absences_user ON absences (user_id, starts_at) WHERE status <> 'cancelled';
CREATE INDEX absences_delegate ON absences (delegate_id, starts_at) WHERE status <> 'cancelled';
CREATE INDEX absences_tenant ON absences (district_id, ends_at);

-- Each task handed to the delegate, and whether it went back.
CREATE TABLE absence_handovers (
  absence_id   uuid NOT NULL REFERENCES absences(id),
  task_id      uuid NOT NULL REFERENCES tasks(id),
  case_id      text NOT NULL REFERENCES cases(id),
  handed_at    timestamptz NOT NULL,
  state        text NOT NULL DEFAULT 'planned' CHECK (state IN ('planned','handed','skipped','returned','kept')),
  settled_at   timestamptz,
  PRIMARY KEY (absence_id, task_id)
);

ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
CREATE POLICY teams_tenant ON teams USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) IN ('operator','supervisor') AND district_id = (SELECT sportello_district())));

ALTER TABLE team_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY team_members_tenant ON team_members USING (EXISTS (SELECT 1 FROM teams t WHERE t.id = team_id));

-- Supervisors see the district's absences; operators their municipality's
-- and the district-wide ones (supervisors').
ALTER TABLE absences ENABLE ROW LEVEL SECURITY;
CREATE POLICY absences_tenant ON absences USING (
  (SELECT sportello_scope()) = 'system'
  OR ((SELECT sportello_scope()) = 'supervisor' AND district_id = (SELECT sportello_district()))
  OR ((SELECT sportello_scope()) = 'operator' AND district_id = (SELECT sportello_district())
      AND (municipality_id IS NULL OR municipality_id = (SELECT sportello_municipality()))));

ALTER TABLE absence_handovers ENABLE ROW LEVEL SECURITY;
CREATE POLICY absence_handovers_tenant ON absence_handovers USING (EXISTS (SELECT 1 FROM absences a WHERE a.id = absence_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON teams, team_members, absences, absence_handovers TO sportello_app;

---- create above / drop below ----

DROP TABLE absence_handovers, absences;
DROP INDEX tasks_claimed_by;
ALTER TABLE tasks DROP COLUMN team_id;
ALTER TABLE funds DROP COLUMN auto_assign, DROP COLUMN team_id;
DROP TABLE team_members, teams;
