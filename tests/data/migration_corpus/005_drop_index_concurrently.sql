-- corpus: the safe form of a drop
SET lock_timeout = '2s';
SET statement_timeout = '1min';
DROP INDEX CONCURRENTLY IF EXISTS orders.orders_status_idx;
