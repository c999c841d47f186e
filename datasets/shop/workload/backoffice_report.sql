-- payments: back office revenue by order status for one day.
\set day random(0, 363)
SELECT o.status, count(*) AS orders, sum(oi.quantity * oi.price_cents) AS revenue_cents
  FROM orders.orders o JOIN orders.order_items oi ON oi.order_id = o.id
 WHERE o.created_at >= timestamptz '2024-01-01 00:00:00+00' + :day * interval '1 day'
   AND o.created_at <  timestamptz '2024-01-01 00:00:00+00' + (:day + 1) * interval '1 day'
 GROUP BY o.status ORDER BY o.status;
