-- corpus: a batched backfill alone in its file: no DDL lock held meanwhile
UPDATE orders.orders SET channel = 'web' WHERE channel IS NULL AND id BETWEEN 1 AND 10000;
