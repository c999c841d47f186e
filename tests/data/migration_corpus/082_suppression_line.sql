-- corpus: a reviewed drop, suppressed on the line before it
SET lock_timeout = '2s';
SET statement_timeout = '1min';
-- squawk-ignore ban-drop-column
ALTER TABLE accounts.customers DROP COLUMN IF EXISTS legacy_email;
ALTER TABLE accounts.customers DROP COLUMN IF EXISTS legacy_phone;
