-- corpus: an EXCLUDE constraint builds its index under ACCESS EXCLUSIVE and cannot be NOT VALID
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE rooms.bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);
