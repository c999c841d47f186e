-- One year of orders in id order; Zipf-like customers and restaurants; the last few hundred
-- orders are still moving (pending, preparing, out for delivery), 3% were cancelled.
INSERT INTO orders.orders (id, customer_id, restaurant_id, courier_id, status, total_cents,
                           details, created_at, delivered_at, updated_at)
SELECT g, c, r,
       CASE WHEN st IN ('pending', 'cancelled') THEN NULL ELSE 1 + (g * 13 % :n_couriers) END,
       st,
       (800 + floor(exp(workbench.u(g, 3, :seed) * ln(20000))))::int,
       jsonb_build_object('contactless', workbench.u(g, 4, :seed) < 0.6)
         || CASE WHEN workbench.u(g, 5, :seed) < 0.05
                 THEN jsonb_build_object('promo', 'P' || floor(workbench.u(g, 6, :seed) * 5000)::int)
                 ELSE '{}'::jsonb END,
       ts,
       CASE WHEN st = 'delivered' THEN ts + interval '35 minutes' END,
       ts + interval '35 minutes'
FROM (SELECT g, workbench.skewed(workbench.u(g, 1, :seed), :n_customers) AS c,
             workbench.skewed(workbench.u(g, 2, :seed), :n_restaurants) AS r,
             CASE WHEN g > :rows * 0.997
                  THEN (ARRAY['pending','preparing','out_for_delivery'])[1 + (g % 3)::int]
                  WHEN workbench.u(g, 7, :seed) < 0.03 THEN 'cancelled'
                  ELSE 'delivered' END AS st,
             workbench.spread('2024-01-01 00:00:00+00', 365,
                              (g - 1 + workbench.u(g, 8, :seed)) / :rows) AS ts
        FROM generate_series(1::bigint, :rows) AS g
      OFFSET 0) AS t;
