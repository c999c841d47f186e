-- couriers: every courier's app reports its position every few seconds.
\set cid random(1, :n_couriers)
\set dlat random(0, 999)
\set dlon random(0, 999)
UPDATE couriers.couriers SET lat = 52.0 + :dlat / 1000.0, lon = 13.0 + :dlon / 1000.0,
       last_seen_at = now()
 WHERE id = :cid;
