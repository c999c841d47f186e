DROP INDEX CONCURRENTLY events.events_kind_idx;
