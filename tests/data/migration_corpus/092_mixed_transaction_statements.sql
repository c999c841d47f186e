-- corpus: SET then CREATE INDEX CONCURRENTLY: lints clean by default, needs `apply --mixed`
SET lock_timeout = '2s';
SET statement_timeout = '30min';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_idx ON orders.orders (created_at);
