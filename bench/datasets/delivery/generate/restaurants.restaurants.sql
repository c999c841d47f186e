-- Restaurants in 200 cities; a few attributes in jsonb (10% vegan).
INSERT INTO restaurants.restaurants (id, name, city_id, cuisine, rating, is_open, attrs, updated_at)
SELECT g,
       'Restaurant ' || g,
       1 + (g * 31 % 200)::int,
       (ARRAY['pizza','sushi','burger','thai','indian','mexican','greek','vegan','kebab','ramen'])
           [1 + floor(workbench.u(g, 1, :seed) * 10)::int],
       round((2.5 + workbench.u(g, 2, :seed) * 2.5)::numeric, 1),
       workbench.u(g, 3, :seed) < 0.8,
       jsonb_build_object('vegan', workbench.u(g, 4, :seed) < 0.1,
                          'halal', workbench.u(g, 5, :seed) < 0.15,
                          'price_level', 1 + floor(workbench.u(g, 6, :seed) * 4)::int),
       timestamptz '2024-01-01 00:00:00+00'
FROM generate_series(1::bigint, :rows) AS g;
