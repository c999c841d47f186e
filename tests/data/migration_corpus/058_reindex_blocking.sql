-- corpus: REINDEX without CONCURRENTLY locks out reads and writes
SET lock_timeout = '2s';
SET statement_timeout = '30min';
REINDEX TABLE orders.orders;
