-- corpus: TRUNCATE ... CASCADE empties every table that references these
SET lock_timeout = '2s';
SET statement_timeout = '1min';
TRUNCATE TABLE staging.imports CASCADE;
