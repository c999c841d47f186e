-- corpus: VACUUM FULL and CLUSTER rewrite under ACCESS EXCLUSIVE (the workbench's own rules)
SET lock_timeout = '2s';
SET statement_timeout = '1h';
VACUUM (FULL, ANALYZE) orders.orders;
CLUSTER orders.orders USING orders_pkey;
