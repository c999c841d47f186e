-- corpus: BEGIN/COMMIT in a file the runner already wraps in a transaction
-- squawk-options: --assume-in-transaction
BEGIN;
SET LOCAL lock_timeout = '2s';
SET LOCAL statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS note text;
COMMIT;
