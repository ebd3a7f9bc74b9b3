-- placeholder

---- create above / drop below ----
