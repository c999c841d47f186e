-- saved with a byte-order mark
SET lock_timeout = '2s';
ALTER TABLE accounts ADD COLUMN status text DEFAULT 'new';
