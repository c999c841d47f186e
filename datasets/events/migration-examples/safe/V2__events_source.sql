-- service: ingest
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE events.events ADD COLUMN source text;
