-- corpus: ADD VALUE without BEFORE/AFTER appends to the enum's order
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TYPE orders.order_status ADD VALUE IF NOT EXISTS 'refunded';
