-- corpus: ADD UNIQUE builds its index under ACCESS EXCLUSIVE
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers ADD CONSTRAINT customers_email_key UNIQUE (email);
