-- Reserved for issue 5: the cooperatives' catalogue (filled in by the branch that builds it).
SELECT 1;

---- create above / drop below ----

SELECT 1;
