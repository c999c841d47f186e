-- service: ingest
-- The safe rewrite: built CONCURRENTLY (no write lock), alone in its file (it cannot run in a
-- transaction); a failed build is dropped and retried.
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_kind_idx ON events.events (kind);
