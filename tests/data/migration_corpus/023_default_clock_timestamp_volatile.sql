-- corpus: clock_timestamp() is VOLATILE: every row is rewritten
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS seen_at timestamptz DEFAULT clock_timestamp();
