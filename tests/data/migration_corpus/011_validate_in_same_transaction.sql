-- corpus: VALIDATE in the same transaction as the NOT VALID add keeps the lock
-- squawk-options: --assume-in-transaction
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders.orders VALIDATE CONSTRAINT orders_total_positive;
