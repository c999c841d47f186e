-- corpus: lock_timeout alone: statement_timeout still missing
SET lock_timeout = '2s';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS note text;
