-- corpus: opt-in: function, view, role, database, system and extension options
-- squawk-options: --include ban-alter-function-options,ban-alter-view-options,ban-alter-role-options,ban-alter-database-options,ban-alter-system-options,ban-alter-extension,ban-replace-view-function
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER FUNCTION orders.order_total(bigint) SECURITY DEFINER;
ALTER VIEW reporting.daily_sales SET (security_barrier = true);
ALTER ROLE app_user NOLOGIN;
ALTER DATABASE shop SET search_path TO orders, public;
ALTER SYSTEM SET work_mem = '64MB';
ALTER EXTENSION pg_trgm UPDATE;
CREATE OR REPLACE VIEW reporting.daily_sales AS SELECT 1 AS total;
