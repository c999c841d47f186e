-- restaurants: vegan restaurants of a city, best rated first.
\set city random(1, 200)
SELECT id, name, rating FROM restaurants.restaurants
 WHERE city_id = :city AND attrs @> '{"vegan": true}' ORDER BY rating DESC LIMIT 20;
