SET lock_timeout = '2s';
ALTER TABLE orders.orders DROP COLUMN gift_note;
