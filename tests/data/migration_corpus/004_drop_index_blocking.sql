-- corpus: DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE
SET lock_timeout = '2s';
SET statement_timeout = '1min';
DROP INDEX IF EXISTS orders.orders_status_idx;
