-- corpus: ADD VALUE ... AFTER keeps the order meaningful
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TYPE orders.order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';
