-- corpus: int to bigint rewrites the table and its indexes
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.order_items ALTER COLUMN quantity TYPE bigint;
