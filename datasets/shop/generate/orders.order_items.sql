-- Three items per order on average; Zipf-like products (hot products dominate the items).
INSERT INTO orders.order_items (id, order_id, product_id, quantity, price_cents)
SELECT g,
       1 + ((g - 1) * :n_orders) / :rows,
       workbench.skewed(workbench.u(g, 1, :seed), :n_products),
       1 + floor(-ln(1 - workbench.u(g, 2, :seed)) * 0.8)::int,
       (199 + floor(exp(workbench.u(g, 3, :seed) * ln(200000))))::int
FROM generate_series(1::bigint, :rows) AS g;
