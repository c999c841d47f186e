-- service: orders
-- Dangerous: changing a column's type rewrites order_items and its indexes under an ACCESS
-- EXCLUSIVE lock: checkout and the back-office report wait for the whole rewrite.
ALTER TABLE orders.order_items ALTER COLUMN quantity TYPE bigint;
