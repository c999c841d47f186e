-- corpus: dropping a table
SET lock_timeout = '2s';
SET statement_timeout = '1min';
DROP TABLE IF EXISTS marketing.legacy_coupons;
