-- corpus: ADD COLUMN serial PRIMARY KEY: an index build and a table rewrite at once
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE events.raw_events ADD COLUMN IF NOT EXISTS id serial PRIMARY KEY;
