SET lock_timeout = '2s';
ALTER TABLE events.events DROP COLUMN source;
