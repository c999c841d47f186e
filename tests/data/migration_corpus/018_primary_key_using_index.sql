-- corpus: PRIMARY KEY USING INDEX attaches a concurrently built index
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE events.raw_events ADD CONSTRAINT raw_events_pkey PRIMARY KEY USING INDEX raw_events_id_idx;
