-- corpus: a domain with CHECK is checked everywhere it is used and cannot change online
SET lock_timeout = '2s';
SET statement_timeout = '1min';
CREATE DOMAIN catalog.positive_price AS numeric(12, 2) CHECK (VALUE > 0);
