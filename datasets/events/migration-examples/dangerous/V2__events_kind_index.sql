-- service: ingest
-- Dangerous: a plain CREATE INDEX blocks every insert into events while it builds.
CREATE INDEX events_kind_idx ON events.events (kind);
