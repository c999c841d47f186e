-- orders: support checks who used a promotion code.
\set p random(0, 4999)
SELECT id, customer_id, total_cents FROM orders.orders
 WHERE details @> jsonb_build_object('promo', 'P' || :p);
