-- corpus: dropping NOT NULL lets NULLs reach readers that never expect them
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE accounts.customers ALTER COLUMN country DROP NOT NULL;
