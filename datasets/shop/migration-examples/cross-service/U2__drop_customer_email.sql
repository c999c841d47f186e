ALTER TABLE accounts.customers ADD COLUMN email text;
