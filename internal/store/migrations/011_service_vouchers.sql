-- Service vouchers (issue 5, part A). The funds' kind and categories are in
-- 010; here: when a citizen last declared their ISEE in their profile, so the
-- catalogue uses whichever declaration is newer, the profile's or the latest
-- application's (see store.CitizenISEE).
ALTER TABLE users ADD COLUMN isee_updated_at timestamptz;

---- create above / drop below ----

ALTER TABLE users DROP COLUMN isee_updated_at;
