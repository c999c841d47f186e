-- corpus: dropping a column another service still reads
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers DROP COLUMN IF EXISTS email;
