-- corpus: an inline REFERENCES on ADD COLUMN validates at once
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS coupon_id bigint REFERENCES marketing.coupons (id);
