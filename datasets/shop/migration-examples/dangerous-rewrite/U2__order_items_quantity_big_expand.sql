SET lock_timeout = '2s';
ALTER TABLE orders.order_items DROP COLUMN quantity_big;
