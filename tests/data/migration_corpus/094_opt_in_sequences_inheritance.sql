-- corpus: opt-in: sequence values and inheritance
-- squawk-options: --include ban-alter-sequence-values,ban-detach-inheritance
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER SEQUENCE orders.invoice_number_seq RESTART WITH 1000;
ALTER TABLE events.raw_events ALTER COLUMN seq RESTART WITH 1;
ALTER TABLE events.events_archive NO INHERIT events.events;
