-- corpus: a validated foreign key scans and locks both tables
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.order_items ADD CONSTRAINT order_items_product_fk FOREIGN KEY (product_id) REFERENCES catalog.products (id);
