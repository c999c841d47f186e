-- corpus: DETACH PARTITION without CONCURRENTLY locks the parent
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE events.events DETACH PARTITION events.events_2023;
