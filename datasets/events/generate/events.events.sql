-- One year of events in id order; Zipf-like tenants; heavy-tailed payload sizes.
INSERT INTO events.events (id, tenant_id, kind, created_at, payload)
SELECT g,
       workbench.skewed(workbench.u(g, 1, :seed), :n_tenants),
       (ARRAY['page_view','page_view','page_view','click','click','signup','purchase','error'])
           [1 + floor(workbench.u(g, 2, :seed) * 8)::int],
       workbench.spread('2024-01-01 00:00:00+00', 365,
                        (g - 1 + workbench.u(g, 3, :seed)) / :rows),
       jsonb_build_object(
           'device', (ARRAY['ios','android','web','web'])[1 + floor(workbench.u(g, 4, :seed) * 4)::int],
           'session', g % 100000,
           'path', '/p/' || floor(exp(workbench.u(g, 5, :seed) * ln(5000)))::int,
           'tags', repeat('x', floor(exp(workbench.u(g, 6, :seed) * ln(300)))::int))
FROM generate_series(1::bigint, :rows) AS g;
