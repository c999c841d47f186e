-- ingest: append one event for a (hot) tenant.
\set tid random_zipfian(1, :n_tenants, 1.1)
\set dev random(1, 3)
INSERT INTO events.events (tenant_id, kind, created_at, payload)
VALUES (:tid, 'page_view', now(),
        jsonb_build_object('device', (ARRAY['ios','android','web'])[:dev], 'path', '/p/1'));
