-- placeholder for a migration of another branch (the lead renumbers at merge)
SELECT 1;

---- create above / drop below ----

SELECT 1;
