-- corpus: PostgreSQL 18's virtual generated columns are computed on read: no rewrite
-- diverges: adding-field-with-default
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.order_items ADD COLUMN IF NOT EXISTS line_total numeric GENERATED ALWAYS AS (quantity * unit_price) VIRTUAL;
