-- corpus: CURRENT_DATE is STABLE like CURRENT_TIMESTAMP
-- diverges: adding-field-with-default
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders ADD COLUMN IF NOT EXISTS booked_on date DEFAULT CURRENT_DATE;
