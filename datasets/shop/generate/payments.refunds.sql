INSERT INTO payments.refunds (id, payment_id, amount_cents, reason, created_at)
SELECT g,
       1 + ((g - 1) * :n_payments) / :rows,
       (100 + floor(workbench.u(g, 1, :seed) * 5000))::bigint,
       (ARRAY['damaged','late','wrong item','changed mind'])[1 + floor(workbench.u(g, 2, :seed) * 4)::int],
       workbench.spread('2024-01-15 00:00:00+00', 365, g::float8 / :rows)
FROM generate_series(1::bigint, :rows) AS g;
