-- couriers: dispatch looks for available couriers in a zone, most recently seen first.
\set zone random(1, 200)
SELECT id, lat, lon FROM couriers.couriers
 WHERE zone = :zone AND available ORDER BY last_seen_at DESC LIMIT 5;
