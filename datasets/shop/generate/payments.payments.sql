INSERT INTO payments.payments (id, order_id, amount_cents, method, status, created_at)
SELECT g,
       1 + ((g - 1) * :n_orders) / :rows,
       (500 + floor(exp(workbench.u(g, 1, :seed) * ln(100000))))::bigint,
       (ARRAY['card','card','card','paypal','invoice'])[1 + floor(workbench.u(g, 2, :seed) * 5)::int],
       CASE WHEN workbench.u(g, 3, :seed) < 0.02 THEN 'failed' ELSE 'captured' END,
       timestamptz '2024-01-01 00:00:00+00' + ((g - 0.5) / :rows) * interval '365 days'
FROM generate_series(1::bigint, :rows) AS g;
