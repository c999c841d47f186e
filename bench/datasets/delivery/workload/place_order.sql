-- orders: a (returning) customer orders from a (popular) restaurant.
\set cid 1 + (random_zipfian(1, :n_customers, 1.05) - 1) * 1000003 % :n_customers
\set rid 1 + (random_zipfian(1, :n_restaurants, 1.1) - 1) * 1000003 % :n_restaurants
\set total random(800, 12000)
\set cl random(0, 1)
INSERT INTO orders.orders (customer_id, restaurant_id, status, total_cents, details, created_at,
                           updated_at)
VALUES (:cid, :rid, 'pending', :total, jsonb_build_object('contactless', :cl = 1), now(), now());
