-- corpus: a BEGIN that is never committed
BEGIN;
SET LOCAL lock_timeout = '2s';
SET LOCAL statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN note text;
