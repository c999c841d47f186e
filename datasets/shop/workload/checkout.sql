-- orders: checkout across services: reserve stock (catalog), create the order and its item
-- (orders), authorise the payment (payments), in one transaction.
\set cid 1 + (random_zipfian(1, :n_customers, 1.05) - 1) * 1000003 % :n_customers
\set pid 1 + (random_zipfian(1, :n_products, 1.1) - 1) * 1000003 % :n_products
\set qty random(1, 3)
BEGIN;
UPDATE catalog.inventory SET quantity = quantity - :qty, updated_at = now() WHERE product_id = :pid;
INSERT INTO orders.orders (customer_id, status, total_cents, created_at, updated_at)
SELECT :cid, 'pending', price_cents * :qty, now(), now() FROM catalog.products WHERE id = :pid
RETURNING id AS order_id \gset
INSERT INTO orders.order_items (order_id, product_id, sku, name, quantity, price_cents, tax_cents)
SELECT :order_id, id, sku, name, :qty, price_cents, price_cents * 19 / 100
  FROM catalog.products WHERE id = :pid;
INSERT INTO payments.payments (order_id, amount_cents, method, provider_ref, status, created_at)
SELECT :order_id, price_cents * :qty, 'card', 'pay_checkout_' || :order_id, 'authorized', now()
  FROM catalog.products WHERE id = :pid;
END;
