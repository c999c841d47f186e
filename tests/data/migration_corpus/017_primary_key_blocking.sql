-- corpus: ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE events.raw_events ADD PRIMARY KEY (id);
