-- Couriers in 200 zones; one in ten is waiting for an order at any time.
INSERT INTO couriers.couriers (id, name, zone, available, lat, lon, last_seen_at)
SELECT g,
       'Courier ' || g,
       1 + (g * 37 % 200)::int,
       workbench.u(g, 1, :seed) < 0.1,
       52.0 + workbench.u(g, 2, :seed),
       13.0 + workbench.u(g, 3, :seed),
       timestamptz '2024-12-31 00:00:00+00' + workbench.u(g, 4, :seed) * interval '1 day'
FROM generate_series(1::bigint, :rows) AS g;
