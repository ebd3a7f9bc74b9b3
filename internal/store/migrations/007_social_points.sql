-- Reserved for issue 4: Social Points, opening hours and appointments (filled in by the branch that builds it).
SELECT 1;

---- create above / drop below ----

SELECT 1;
