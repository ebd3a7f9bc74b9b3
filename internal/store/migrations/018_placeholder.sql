-- placeholder
SELECT 1; -- tern refuses a step without SQL

---- create above / drop below ----

SELECT 1; -- and takes a step without down SQL for irreversible
