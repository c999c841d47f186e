-- service: bank
-- Dangerous: a volatile default rewrites every row of pgbench_accounts under an exclusive lock.
ALTER TABLE pgbench_accounts ADD COLUMN updated_at timestamptz DEFAULT clock_timestamp();
