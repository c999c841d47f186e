-- corpus: gen_random_uuid() is VOLATILE
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers ADD COLUMN IF NOT EXISTS public_id uuid NOT NULL DEFAULT gen_random_uuid();
