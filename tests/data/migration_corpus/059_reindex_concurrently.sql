-- corpus: the safe form of a reindex
SET lock_timeout = '2s';
SET statement_timeout = '30min';
REINDEX INDEX CONCURRENTLY orders.orders_status_idx;
