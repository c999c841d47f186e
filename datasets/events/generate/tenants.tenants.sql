INSERT INTO tenants.tenants (id, name, plan, created_at)
SELECT g, 'tenant-' || g,
       (ARRAY['free','free','team','enterprise'])[1 + floor(workbench.u(g, 1, :seed) * 4)::int],
       workbench.spread('2023-01-01 00:00:00+00', 365, g::float8 / :rows)
FROM generate_series(1::bigint, :rows) AS g;
