-- corpus: timeouts set after the statement they should protect
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS note text;
SET lock_timeout = '2s';
SET statement_timeout = '1min';
