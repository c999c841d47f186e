CREATE OR REPLACE VIEW accounts_v AS SELECT id, name FROM accounts;
