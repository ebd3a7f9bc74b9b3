-- Each municipality's office calendar for SLAs: its patron-saint day (a
-- local holiday set by custom or council resolution, so configuration, not
-- code) and the office's opening hours.
ALTER TABLE municipalities ADD COLUMN patron_saint text;
ALTER TABLE municipalities ADD COLUMN patron_month integer CHECK (patron_month BETWEEN 1 AND 12);
ALTER TABLE municipalities ADD COLUMN patron_day integer CHECK (patron_day BETWEEN 1 AND 31);
ALTER TABLE municipalities ADD COLUMN office_opens time;
ALTER TABLE municipalities ADD COLUMN office_closes time;
ALTER TABLE municipalities ADD CONSTRAINT municipalities_patron_check CHECK ((patron_month IS NULL) = (patron_day IS NULL));
ALTER TABLE municipalities ADD CONSTRAINT municipalities_hours_check
  CHECK ((office_opens IS NULL) = (office_closes IS NULL) AND (office_opens IS NULL OR office_opens < office_closes));

---- create above / drop below ----

ALTER TABLE municipalities DROP CONSTRAINT municipalities_hours_check, DROP CONSTRAINT municipalities_patron_check;
ALTER TABLE municipalities DROP COLUMN office_closes, DROP COLUMN office_opens, DROP COLUMN patron_day,
  DROP COLUMN patron_month, DROP COLUMN patron_saint;
