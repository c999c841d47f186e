ALTER TABLE orders.order_items ALTER COLUMN quantity TYPE integer;
