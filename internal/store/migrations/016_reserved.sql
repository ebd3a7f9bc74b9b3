-- Placeholder: number 016 belongs to the scale branch's migration, which
-- replaces this file when the branches are merged (the migration runner,
-- tern, refuses a gap in the numbers, so 017 needs a 016 here). It does
-- nothing.
SELECT 1;

---- create above / drop below ----

SELECT 1;
