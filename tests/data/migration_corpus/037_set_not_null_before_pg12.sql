-- corpus: PostgreSQL 11 ignores the validated check and scans anyway
-- squawk-options: --pg-version 11
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers VALIDATE CONSTRAINT customers_country_not_null;
ALTER TABLE accounts.customers ALTER COLUMN country SET NOT NULL;
ALTER TABLE accounts.customers DROP CONSTRAINT IF EXISTS customers_country_not_null;
