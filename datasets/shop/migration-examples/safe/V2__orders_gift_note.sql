-- service: orders
-- Safe: a nullable column without a default is a catalog change; the lock is brief, and
-- lock_timeout makes it give up rather than queue the checkout behind a long transaction.
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN gift_note text;
