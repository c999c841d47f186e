-- One year of orders, ids in time order; Zipf-like customers (a few customers order a lot);
-- older orders are delivered, the last days' still moving through the states. The shipping
-- address is a snapshot of the customer's (same city and postcode as their first address).
INSERT INTO orders.orders (id, customer_id, status, total_cents, currency, channel, ship_name,
                           ship_line1, ship_city, ship_postcode, ship_country, note,
                           created_at, updated_at)
SELECT g, c,
       CASE WHEN g > :rows * 0.995 THEN (ARRAY['pending','paid','shipped'])[1 + (g % 3)::int]
            WHEN workbench.u(g, 2, :seed) < 0.03 THEN 'cancelled'
            ELSE 'delivered' END,
       (500 + floor(exp(workbench.u(g, 3, :seed) * ln(100000))))::bigint,
       (ARRAY['EUR','EUR','EUR','USD','GBP'])[1 + (c % 5)::int],
       (ARRAY['web','web','app','app','phone'])[1 + floor(workbench.u(g, 5, :seed) * 5)::int],
       'Customer ' || c,
       (1 + c % 300) || ' Main Street, apartment ' || (1 + c % 97),
       'City ' || (1 + c % 500),
       lpad((c * 7919 % 99999)::text, 5, '0'),
       (ARRAY['US','DE','FR','GB','NL','ES','IT','SE','PL','JP'])[1 + (c % 10)::int],
       CASE WHEN workbench.u(g, 6, :seed) < 0.05
            THEN repeat('please leave at the door ', 1 + floor(exp(workbench.u(g, 7, :seed) * ln(40)))::int) END,
       ts, ts + interval '48 hours'
FROM (SELECT g, workbench.skewed(workbench.u(g, 1, :seed), :n_customers) AS c,
             workbench.spread('2024-01-01 00:00:00+00', 365,
                              (g - 1 + workbench.u(g, 4, :seed)) / :rows) AS ts
        FROM generate_series(1::bigint, :rows) AS g
      OFFSET 0) AS t;  -- OFFSET 0: compute c and ts once per row, not once per use
