-- corpus: never drop a database from a migration
DROP DATABASE IF EXISTS reporting_copy;
