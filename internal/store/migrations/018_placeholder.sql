-- placeholder
SELECT 1; -- tern refuses a step without SQL

---- create above / drop below ----
