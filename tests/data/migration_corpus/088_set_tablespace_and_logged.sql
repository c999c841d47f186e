-- corpus: SET TABLESPACE and SET LOGGED copy the whole table under ACCESS EXCLUSIVE
SET lock_timeout = '2s';
SET statement_timeout = '1h';
ALTER TABLE events.events SET TABLESPACE fast_ssd;
ALTER TABLE staging.imports SET LOGGED;
