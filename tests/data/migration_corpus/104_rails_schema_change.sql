-- corpus: what a Rails migration runs: timeouts, a users table, a foreign key validated in the same run, a backfill
SET lock_timeout = '5s';
SET statement_timeout = 0;
CREATE TABLE "users" ("id" bigserial primary key, "email" character varying DEFAULT '' NOT NULL, "encrypted_password" character varying DEFAULT '' NOT NULL, "created_at" timestamp(6) NOT NULL, "updated_at" timestamp(6) NOT NULL);
CREATE UNIQUE INDEX "index_users_on_email" ON "users" ("email");
ALTER TABLE "users" ADD "admin" boolean DEFAULT FALSE NOT NULL;
ALTER TABLE "orders" ADD "user_id" bigint;
CREATE INDEX CONCURRENTLY "index_orders_on_user_id" ON "orders" ("user_id");
ALTER TABLE "orders" ADD CONSTRAINT "fk_rails_f868b47f6a" FOREIGN KEY ("user_id") REFERENCES "users" ("id") NOT VALID;
ALTER TABLE "orders" VALIDATE CONSTRAINT "fk_rails_f868b47f6a";
ALTER TABLE "orders" ALTER COLUMN "total" TYPE numeric(12,2);
UPDATE "orders" SET "status" = 'pending' WHERE "status" IS NULL;
