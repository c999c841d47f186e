-- corpus: opt-in: tables named without their schema depend on search_path
-- squawk-options: --include require-table-schema
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE customers ADD COLUMN IF NOT EXISTS note text;
ALTER TABLE accounts.customers ADD COLUMN IF NOT EXISTS memo text;
