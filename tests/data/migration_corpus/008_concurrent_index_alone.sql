-- corpus: a CONCURRENTLY statement alone in its file runs on its own
-- squawk-options: --assume-in-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_created_idx ON events.events (created_at);
