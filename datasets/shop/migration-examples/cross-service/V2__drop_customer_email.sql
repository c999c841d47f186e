-- service: orders
-- Wrong on two counts: the orders team changes the accounts service's table, and the accounts
-- service's sign-in query still reads the column.
SET lock_timeout = '2s';
ALTER TABLE accounts.customers DROP COLUMN email;
