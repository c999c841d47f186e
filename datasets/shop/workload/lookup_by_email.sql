-- accounts: sign-in looks the customer up by email.
\set cid random_zipfian(1, :n_customers, 1.05)
SELECT id, name, status FROM accounts.customers
 WHERE email = 'customer' || :cid || '@example.com';
