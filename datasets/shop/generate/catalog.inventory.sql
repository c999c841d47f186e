INSERT INTO catalog.inventory (product_id, warehouse, quantity, updated_at)
SELECT g,
       1 + (g % 4)::int,
       floor(workbench.u(g, 1, :seed) * 10000)::int,
       timestamptz '2024-01-01 00:00:00+00'
FROM generate_series(1::bigint, :rows) AS g;
