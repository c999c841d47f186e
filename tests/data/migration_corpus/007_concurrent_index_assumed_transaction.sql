-- corpus: with the runner's transaction assumed, a second statement makes CONCURRENTLY fail
-- squawk-options: --assume-in-transaction
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_key ON accounts.customers (email);
