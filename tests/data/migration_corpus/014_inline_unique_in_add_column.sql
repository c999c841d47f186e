-- corpus: an inline UNIQUE on ADD COLUMN builds an index under ACCESS EXCLUSIVE
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers ADD COLUMN IF NOT EXISTS external_ref text UNIQUE;
