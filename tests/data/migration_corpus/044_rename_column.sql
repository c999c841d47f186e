-- corpus: renaming a column breaks every running query that uses it
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers RENAME COLUMN email TO email_address;
