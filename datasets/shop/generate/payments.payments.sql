-- One payment per order (by id: the orders service is another service), a moment after it.
INSERT INTO payments.payments (id, order_id, amount_cents, currency, method, provider,
                               provider_ref, card_last4, status, created_at)
SELECT g,
       1 + ((g - 1) * :n_orders) / :rows,
       (500 + floor(exp(workbench.u(g, 1, :seed) * ln(100000))))::bigint,
       'EUR',
       m,
       CASE m WHEN 'paypal' THEN 'paypal' WHEN 'invoice' THEN 'inhouse' ELSE 'stripe' END,
       'pay_' || to_hex(hashint8extended(g, :seed)),
       CASE WHEN m = 'card' THEN lpad((g * 7907 % 10000)::text, 4, '0') END,
       CASE WHEN workbench.u(g, 3, :seed) < 0.02 THEN 'failed' ELSE 'captured' END,
       workbench.spread('2024-01-01 00:00:00+00', 365, (g - 0.5::float8) / :rows)
FROM (SELECT g, (ARRAY['card','card','card','paypal','invoice'])
                    [1 + floor(workbench.u(g, 2, :seed) * 5)::int] AS m
        FROM generate_series(1::bigint, :rows) AS g
      OFFSET 0) AS t;  -- OFFSET 0: draw m once per row, not once per use
