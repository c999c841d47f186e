-- One stock row per product, read from the products table (hence depends_on in dataset.toml);
-- cheap products are stocked more deeply.
INSERT INTO catalog.inventory (product_id, warehouse, quantity, updated_at)
SELECT p.id,
       1 + (p.id % 4)::int,
       floor(workbench.u(p.id, 1, :seed) * 200000 / (1 + p.price_cents / 100))::int,
       timestamptz '2024-01-01 00:00:00+00'
FROM catalog.products AS p
ORDER BY p.id;
