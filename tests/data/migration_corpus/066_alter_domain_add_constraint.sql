-- corpus: adding a constraint to a domain scans every column using it
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER DOMAIN catalog.positive_price ADD CONSTRAINT positive_price_max CHECK (VALUE < 1000000) NOT VALID;
