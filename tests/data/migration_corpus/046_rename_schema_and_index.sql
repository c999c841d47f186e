-- corpus: schema, index and constraint renames break callers too (squawk 2.6x renaming-object)
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER SCHEMA marketing RENAME TO growth;
ALTER INDEX orders.orders_status_idx RENAME TO orders_state_idx;
ALTER TABLE orders.orders RENAME CONSTRAINT orders_total_positive TO orders_total_nonnegative;
