-- corpus: DROP IF EXISTS then ADD of the same constraint re-runs fine
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders DROP CONSTRAINT IF EXISTS orders_coupon_fk;
ALTER TABLE orders.orders ADD CONSTRAINT orders_coupon_fk FOREIGN KEY (coupon_id) REFERENCES marketing.coupons (id) NOT VALID;
ALTER TABLE orders.orders VALIDATE CONSTRAINT orders_coupon_fk;
