-- corpus: names over 63 bytes are silently truncated
SET lock_timeout = '2s';
SET statement_timeout = '1min';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_created_at_status_total_channel_coupon_idx_v2 ON orders.orders (customer_id, created_at);
