-- corpus: squawk's opt-in backward-compatibility rules for new restrictions and additions
-- squawk-options: --include ban-new-write-restriction,ban-add-column,ban-add-enum-value,ban-add-composite-attribute
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders.orders ALTER COLUMN channel SET NOT NULL;
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS region text NOT NULL DEFAULT 'eu';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_ref_key ON orders.orders (ref);
ALTER TYPE orders.order_status ADD VALUE IF NOT EXISTS 'held' BEFORE 'paid';
ALTER TYPE catalog.dimensions ADD ATTRIBUTE depth_mm int;
