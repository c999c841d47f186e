-- accounts: sign-in compares e-mails case-insensitively.
\set cid random_zipfian(1, :n_customers, 1.05)
SELECT id, name FROM accounts.customers WHERE lower(email) = 'user' || :cid || '@example.com';
