-- corpus: a backfill in the same transaction as the DDL holds its lock for the whole backfill
SET lock_timeout = '2s';
SET statement_timeout = '10min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS channel text;
UPDATE orders.orders SET channel = 'web';
