-- corpus: opt-in: index, trigger, policy drops; set default; generated expression; triggers
-- squawk-options: --include ban-drop-index,ban-drop-trigger,ban-drop-policy,ban-set-default,ban-alter-generated-expression,ban-disable-trigger,ban-replica-identity
SET lock_timeout = '2s';
SET statement_timeout = '1min';
DROP INDEX CONCURRENTLY IF EXISTS orders.orders_status_idx;
DROP TRIGGER IF EXISTS orders_audit ON orders.orders;
DROP POLICY IF EXISTS tenant_isolation ON orders.orders;
ALTER TABLE orders.orders ALTER COLUMN channel SET DEFAULT 'app';
ALTER TABLE orders.order_items ALTER COLUMN line_total SET EXPRESSION AS (quantity * unit_price * 1.2);
ALTER TABLE orders.orders DISABLE TRIGGER orders_audit;
ALTER TABLE orders.orders REPLICA IDENTITY FULL;
