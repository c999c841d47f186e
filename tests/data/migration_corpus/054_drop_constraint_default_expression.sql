-- corpus: dropping a constraint, a default or a generated expression changes what clients get
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders DROP CONSTRAINT IF EXISTS orders_total_positive;
ALTER TABLE orders.orders ALTER COLUMN channel DROP DEFAULT;
ALTER TABLE orders.order_items ALTER COLUMN line_total DROP EXPRESSION;
