-- ingest: a tenant's activity feed (newest 20 events).
\set tid random_zipfian(1, :n_tenants, 1.1)
SELECT id, kind, created_at FROM events.events
 WHERE tenant_id = :tid ORDER BY id DESC LIMIT 20;
