-- corpus: an unknown name in a suppression comment is reported, the known one still applies
SET lock_timeout = '2s';
SET statement_timeout = '1min';
-- squawk-ignore ban-drop-table, ban-drop-everything
DROP TABLE IF EXISTS staging.imports_2019;
