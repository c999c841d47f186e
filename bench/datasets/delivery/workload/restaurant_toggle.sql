-- restaurants: a restaurant opens or closes.
\set rid random(1, :n_restaurants)
UPDATE restaurants.restaurants SET is_open = NOT is_open, updated_at = now() WHERE id = :rid;
