-- Heavy-tailed prices and description sizes (a few very long descriptions).
INSERT INTO catalog.products (id, sku, name, category, price_cents, description, created_at)
SELECT g,
       'SKU-' || lpad(g::text, 8, '0'),
       'Product ' || g,
       1 + floor(workbench.u(g, 1, :seed) * 50)::int,
       (199 + floor(exp(workbench.u(g, 2, :seed) * ln(200000))))::int,
       repeat('lorem ipsum ', 1 + floor(exp(workbench.u(g, 3, :seed) * ln(200)))::int),
       workbench.spread('2022-01-01 00:00:00+00', 700, g::float8 / :rows)
FROM generate_series(1::bigint, :rows) AS g;
