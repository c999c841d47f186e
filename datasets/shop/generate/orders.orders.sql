-- One year of orders, ids in time order; Zipf-like customers (a few customers order a lot);
-- older orders are delivered, the last days' still moving through the states.
INSERT INTO orders.orders (id, customer_id, status, total_cents, created_at, updated_at)
SELECT g,
       workbench.skewed(workbench.u(g, 1, :seed), :n_customers),
       CASE WHEN g > :rows * 0.995 THEN (ARRAY['pending','paid','shipped'])[1 + (g % 3)::int]
            WHEN workbench.u(g, 2, :seed) < 0.03 THEN 'cancelled'
            ELSE 'delivered' END,
       (500 + floor(exp(workbench.u(g, 3, :seed) * ln(100000))))::bigint,
       ts, ts + interval '2 days'
FROM generate_series(1::bigint, :rows) AS g,
     LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00'
                     + ((g - 1 + workbench.u(g, 4, :seed)) / :rows) * interval '365 days' AS ts) AS t;
