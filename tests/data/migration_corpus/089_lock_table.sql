-- corpus: an explicit ACCESS EXCLUSIVE lock held for the whole migration
SET lock_timeout = '2s';
SET statement_timeout = '1min';
LOCK TABLE orders.orders IN ACCESS EXCLUSIVE MODE;
UPDATE orders.orders SET channel = 'web' WHERE channel IS NULL;
