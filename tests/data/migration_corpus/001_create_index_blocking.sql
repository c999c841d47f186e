-- corpus: a plain CREATE INDEX on a live table blocks its writes
SET lock_timeout = '2s';
SET statement_timeout = '10min';
CREATE INDEX orders_customer_idx ON orders.orders (customer_id);
