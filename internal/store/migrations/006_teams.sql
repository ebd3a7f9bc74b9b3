-- Reserved for issue 4: teams, candidate groups, automatic assignment and delegation (filled in by the branch that builds it).
SELECT 1;

---- create above / drop below ----

SELECT 1;
