-- corpus: lower('X') is IMMUTABLE: computed once
-- diverges: adding-field-with-default
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE catalog.products ADD COLUMN IF NOT EXISTS sku_prefix text DEFAULT lower('SKU');
