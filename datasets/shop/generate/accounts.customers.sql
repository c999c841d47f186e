-- Customers signed up over two years before the orders' year; 2% closed accounts.
INSERT INTO accounts.customers (id, email, name, country, status, created_at)
SELECT g,
       'customer' || g || '@example.com',
       'Customer ' || g,
       (ARRAY['US','DE','FR','GB','NL','ES','IT','SE','PL','JP'])[1 + floor(workbench.u(g, 1, :seed) ^ 2 * 10)::int],
       CASE WHEN workbench.u(g, 2, :seed) < 0.02 THEN 'closed' ELSE 'active' END,
       workbench.spread('2022-01-01 00:00:00+00', 730, g::float8 / :rows)
FROM generate_series(1::bigint, :rows) AS g;
