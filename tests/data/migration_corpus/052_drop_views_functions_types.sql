-- corpus: squawk 2.67's drops of views, functions and types
SET lock_timeout = '2s';
SET statement_timeout = '1min';
DROP VIEW IF EXISTS reporting.daily_sales;
DROP MATERIALIZED VIEW IF EXISTS reporting.monthly_sales;
DROP FUNCTION IF EXISTS orders.order_total(bigint);
DROP PROCEDURE IF EXISTS orders.archive_old();
DROP TYPE IF EXISTS orders.order_status;
