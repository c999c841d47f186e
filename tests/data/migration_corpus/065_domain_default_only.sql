-- corpus: a DEFAULT is no constraint: a domain with only a default is harmless
-- diverges: ban-create-domain-with-constraint
SET lock_timeout = '2s';
SET statement_timeout = '1min';
CREATE DOMAIN catalog.currency_code AS text DEFAULT 'EUR';
