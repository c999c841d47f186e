-- corpus: suppression on the statement's own line and in a block comment
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders DROP COLUMN IF EXISTS legacy_ref; -- squawk-ignore ban-drop-column
/* squawk-ignore renaming-column */
ALTER TABLE orders.orders RENAME COLUMN total TO total_amount;
