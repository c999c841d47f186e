-- corpus: before PostgreSQL 11 any default rewrites the table
-- squawk-options: --pg-version 10.0
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS channel text DEFAULT 'web';
