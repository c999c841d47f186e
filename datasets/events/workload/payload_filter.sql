-- tenants: support searches a tenant's iOS events.
\set tid random_zipfian(1, :n_tenants, 1.1)
SELECT id, created_at FROM events.events
 WHERE tenant_id = :tid AND payload @> '{"device": "ios"}' LIMIT 50;
