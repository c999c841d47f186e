-- corpus: ROLLBACK TO SAVEPOINT undoes part of a transaction but does not end it
-- diverges: transaction-nesting
BEGIN;
SET LOCAL lock_timeout = '2s';
SET LOCAL statement_timeout = '1min';
SAVEPOINT before_backfill;
UPDATE orders.orders SET channel = 'web' WHERE channel IS NULL AND id < 1000;
ROLLBACK TO SAVEPOINT before_backfill;
COMMIT;
