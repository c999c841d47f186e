-- Three items per order on average; Zipf-like products (hot products dominate the items). The
-- sku and name are snapshots of the product at checkout, as order services keep them.
INSERT INTO orders.order_items (id, order_id, product_id, sku, name, quantity, price_cents,
                                discount_cents, tax_cents)
SELECT g,
       1 + ((g - 1) * :n_orders) / :rows,
       p,
       'SKU-' || lpad(p::text, 8, '0'),
       'Product ' || p,
       1 + floor(-ln(1 - workbench.u(g, 2, :seed)) * 0.8)::int,
       price,
       CASE WHEN g % 7 = 0 THEN price / 10 ELSE 0 END,
       price * 19 / 100
FROM (SELECT g, workbench.skewed(workbench.u(g, 1, :seed), :n_products) AS p,
             (199 + floor(exp(workbench.u(g, 3, :seed) * ln(200000))))::int AS price
        FROM generate_series(1::bigint, :rows) AS g
      OFFSET 0) AS t;  -- OFFSET 0: compute p and price once per row, not once per use
