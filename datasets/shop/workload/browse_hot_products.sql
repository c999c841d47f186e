-- catalog: a shopper opens a (hot) product page, then browses its category by price.
\set pid 1 + (random_zipfian(1, :n_products, 1.1) - 1) * 1000003 % :n_products
\set cat random(1, 50)
SELECT p.id, p.name, p.price_cents, i.quantity
  FROM catalog.products p JOIN catalog.inventory i ON i.product_id = p.id
 WHERE p.id = :pid;
SELECT id, name, price_cents FROM catalog.products
 WHERE category = :cat ORDER BY price_cents LIMIT 20;
