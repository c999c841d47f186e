-- corpus: SET NOT NULL scans the whole table under ACCESS EXCLUSIVE
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers ALTER COLUMN country SET NOT NULL;
