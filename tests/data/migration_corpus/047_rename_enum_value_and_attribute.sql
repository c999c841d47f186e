-- corpus: enum value and composite attribute renames
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TYPE orders.order_status RENAME VALUE 'canceled' TO 'cancelled';
ALTER TYPE catalog.dimensions RENAME ATTRIBUTE width_mm TO width;
