-- orders: dispatch takes the oldest pending orders.
SELECT id, restaurant_id, created_at FROM orders.orders
 WHERE status = 'pending' ORDER BY created_at LIMIT 20;
