-- corpus: a new trigger on an existing, busy table
SET lock_timeout = '2s';
SET statement_timeout = '1min';
CREATE TRIGGER orders_audit AFTER UPDATE ON orders.orders FOR EACH ROW EXECUTE FUNCTION audit.log_change();
