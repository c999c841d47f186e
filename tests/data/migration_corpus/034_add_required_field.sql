-- corpus: NOT NULL without a default fails on a table with rows
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers ADD COLUMN IF NOT EXISTS country text NOT NULL;
