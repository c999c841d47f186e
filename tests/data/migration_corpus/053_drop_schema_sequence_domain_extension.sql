-- corpus: drops of schemas, sequences, domains and extensions
SET lock_timeout = '2s';
SET statement_timeout = '1min';
DROP SCHEMA IF EXISTS legacy CASCADE;
DROP SEQUENCE IF EXISTS orders.invoice_number_seq;
DROP DOMAIN IF EXISTS catalog.positive_price;
DROP EXTENSION IF EXISTS pg_trgm;
