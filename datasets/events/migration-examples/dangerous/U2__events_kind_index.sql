DROP INDEX events.events_kind_idx;
