-- corpus: several actions in one ALTER TABLE, each judged on its own line
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE orders.orders
    ADD COLUMN IF NOT EXISTS coupon_code varchar(32),
    ALTER COLUMN status SET NOT NULL,
    DROP COLUMN IF EXISTS legacy_ref;
