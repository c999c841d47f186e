-- corpus: the safe form: CONCURRENTLY, IF NOT EXISTS, timeouts first
SET lock_timeout = '2s';
SET statement_timeout = '30min';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders.orders (customer_id);
