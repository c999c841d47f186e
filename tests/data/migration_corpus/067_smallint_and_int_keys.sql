-- corpus: 16- and 32-bit keys run out
SET lock_timeout = '2s';
SET statement_timeout = '1min';
CREATE TABLE IF NOT EXISTS catalog.categories (
    id smallint PRIMARY KEY,
    parent_id integer,
    position int2
);
