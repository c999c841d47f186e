-- corpus: renaming a table breaks running queries
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE IF EXISTS orders.orders RENAME TO purchase_orders;
