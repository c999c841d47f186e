-- corpus: ADD COLUMN bigserial: nextval() fills every row, a rewrite neither tool's defaults rule sees
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE events.raw_events ADD COLUMN IF NOT EXISTS seq bigserial;
