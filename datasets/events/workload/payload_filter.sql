-- tenants: support looks up one session's events across all tenants (jsonb containment).
\set sid random(0, 99999)
SELECT id, tenant_id, kind, created_at FROM events.events
 WHERE payload @> ('{"session": ' || :sid || '}')::jsonb;
