-- Customers with e-mails as they typed them (capitalised), so sign-in needs lower(email).
INSERT INTO accounts.customers (id, email, name, phone, created_at)
SELECT g,
       'User' || g || '@Example.com',
       'Customer ' || g,
       '+49 151 ' || lpad((g * 7919 % 10000000)::text, 7, '0'),
       workbench.spread('2022-01-01 00:00:00+00', 730, g::float8 / :rows)
FROM generate_series(1::bigint, :rows) AS g;
