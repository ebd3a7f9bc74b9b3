-- Reserved for issue 4: registration at a Social Point, activation codes, contact tasks (filled in by the branch that builds it).
SELECT 1;

---- create above / drop below ----

SELECT 1;
