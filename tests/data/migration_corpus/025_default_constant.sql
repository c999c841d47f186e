-- corpus: constants and casts of constants are fine
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS channel text NOT NULL DEFAULT 'web', ADD COLUMN IF NOT EXISTS flags jsonb DEFAULT '{}'::jsonb;
