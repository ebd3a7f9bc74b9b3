-- Reserved (issue 5); replaced by the branch that owns it.
SELECT 1;

---- create above / drop below ----

SELECT 1;
