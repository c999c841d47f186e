-- corpus: a lock-taking statement with no timeouts set before it
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS note text;
