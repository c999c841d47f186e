-- service: bank
-- The safe rewrite: no default (a catalog change); new rows get it from the application.
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE pgbench_accounts ADD COLUMN updated_at timestamptz;
