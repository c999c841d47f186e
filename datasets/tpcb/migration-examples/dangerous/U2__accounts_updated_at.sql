ALTER TABLE pgbench_accounts DROP COLUMN updated_at;
