INSERT INTO accounts.addresses (id, customer_id, kind, city, postcode, line1)
SELECT g,
       1 + ((g - 1) * :n_customers) / :rows,
       CASE WHEN g % 3 = 0 THEN 'billing' ELSE 'shipping' END,
       'City ' || (1 + floor(workbench.u(g, 1, :seed) * 500)::int),
       lpad((floor(workbench.u(g, 2, :seed) * 99999))::int::text, 5, '0'),
       (1 + floor(workbench.u(g, 3, :seed) * 300)::int) || ' Main Street'
FROM generate_series(1::bigint, :rows) AS g;
