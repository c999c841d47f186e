-- corpus: FORCE/DISABLE ROW LEVEL SECURITY changes access (its own rule), not trigger firing
-- squawk-options: --include ban-alter-row-level-security,ban-disable-trigger
-- diverges: ban-disable-trigger
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders FORCE ROW LEVEL SECURITY;
ALTER TABLE orders.orders DISABLE ROW LEVEL SECURITY;
