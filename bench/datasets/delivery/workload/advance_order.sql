-- orders: the restaurant or the courier moves an order on (most updates end an order's life).
\set oid random(1, :n_orders)
UPDATE orders.orders SET status = 'delivered', delivered_at = now(), updated_at = now()
 WHERE id = :oid;
