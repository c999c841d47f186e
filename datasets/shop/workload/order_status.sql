-- payments: the payment service checks an order's payment, then marks a paid order shipped.
\set oid random(1, :n_orders)
SELECT id, status, amount_cents FROM payments.payments WHERE order_id = :oid;
UPDATE orders.orders SET status = 'shipped', updated_at = now() WHERE id = :oid AND status = 'paid';
