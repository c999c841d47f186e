-- corpus: on PostgreSQL 19, REPACK (CONCURRENTLY) replaces VACUUM FULL and CLUSTER
-- squawk-options: --pg-version 19
SET lock_timeout = '2s';
SET statement_timeout = '1h';
VACUUM FULL orders.orders;
CLUSTER orders.orders USING orders_pkey;
