-- orders: finance sums one day's orders by hour.
\set day random(0, 363)
SELECT date_trunc('hour', created_at) AS hour, count(*), sum(total_cents) FROM orders.orders
 WHERE created_at >= timestamptz '2024-01-01 00:00:00+00' + :day * interval '1 day'
   AND created_at <  timestamptz '2024-01-01 00:00:00+00' + (:day + 1) * interval '1 day'
 GROUP BY 1 ORDER BY 1;
