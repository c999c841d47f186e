-- corpus: a CHECK without NOT VALID scans under ACCESS EXCLUSIVE
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
