-- service: orders
-- The safe rewrite of ../dangerous (expand/contract): add the new bigint column (a catalog change,
-- brief lock, bounded by lock_timeout); then, outside this migration, the service writes both
-- columns, a batch job backfills quantity_big, readers move over, and a later migration drops the
-- old column.
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.order_items ADD COLUMN quantity_big bigint;
