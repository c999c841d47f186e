-- corpus: DEFAULT now() is STABLE: PostgreSQL 11+ stores it once, no rewrite
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS created_at timestamptz DEFAULT now();
