-- tenants: a tenant's dashboard: events by kind over a week.
\set tid random_zipfian(1, :n_tenants, 1.1)
\set week random(0, 50)
SELECT kind, count(*) FROM events.events
 WHERE tenant_id = :tid
   AND created_at >= timestamptz '2024-01-01 00:00:00+00' + :week * interval '7 days'
   AND created_at <  timestamptz '2024-01-01 00:00:00+00' + (:week + 1) * interval '7 days'
 GROUP BY kind ORDER BY kind;
