-- corpus: the safe form: build the index concurrently elsewhere, attach it here
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX customers_email_idx;
