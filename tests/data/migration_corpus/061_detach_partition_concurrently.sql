-- corpus: DETACH PARTITION CONCURRENTLY in a file of its own
ALTER TABLE events.events DETACH PARTITION events.events_2023 CONCURRENTLY;
