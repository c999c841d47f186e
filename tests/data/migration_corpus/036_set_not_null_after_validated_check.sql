-- corpus: PG 12+: a validated CHECK (col IS NOT NULL) lets SET NOT NULL skip the scan
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers VALIDATE CONSTRAINT customers_country_not_null;
ALTER TABLE accounts.customers ALTER COLUMN country SET NOT NULL;
ALTER TABLE accounts.customers DROP CONSTRAINT IF EXISTS customers_country_not_null;
