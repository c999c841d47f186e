-- corpus: CONCURRENTLY inside BEGIN/COMMIT fails at run time
BEGIN;
SET LOCAL lock_timeout = '2s';
SET LOCAL statement_timeout = '10min';
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_kind_idx ON events.events (kind);
COMMIT;
