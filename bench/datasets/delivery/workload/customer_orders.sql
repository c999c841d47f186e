-- orders: a customer's last ten orders.
\set cid 1 + (random_zipfian(1, :n_customers, 1.05) - 1) * 1000003 % :n_customers
SELECT id, status, total_cents, created_at FROM orders.orders
 WHERE customer_id = :cid ORDER BY created_at DESC LIMIT 10;
