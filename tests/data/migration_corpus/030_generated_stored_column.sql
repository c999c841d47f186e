-- corpus: a stored generated column is computed for every existing row
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.order_items ADD COLUMN IF NOT EXISTS line_total numeric GENERATED ALWAYS AS (quantity * unit_price) STORED;
