SET lock_timeout = '2s';
ALTER TABLE pgbench_accounts DROP COLUMN updated_at;
