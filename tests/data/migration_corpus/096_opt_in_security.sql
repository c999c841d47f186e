-- corpus: opt-in: policies, grants and row level security
-- squawk-options: --include ban-create-policy,ban-alter-policy-roles,ban-alter-policy-condition,ban-revoke,ban-alter-row-level-security
SET lock_timeout = '2s';
SET statement_timeout = '1min';
CREATE POLICY tenant_isolation ON orders.orders USING (tenant_id = current_setting('app.tenant')::bigint);
ALTER POLICY tenant_isolation ON orders.orders TO app_user;
ALTER POLICY tenant_isolation ON orders.orders USING (true);
REVOKE SELECT ON orders.orders FROM reporting;
ALTER TABLE orders.orders ENABLE ROW LEVEL SECURITY;
