-- corpus: a COMMIT without a BEGIN ends somebody else's transaction
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS note text;
COMMIT;
