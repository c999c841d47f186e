-- corpus: -1 is a constant expression, not a volatile call
-- diverges: adding-field-with-default
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE catalog.products ADD COLUMN IF NOT EXISTS stock bigint NOT NULL DEFAULT -1;
