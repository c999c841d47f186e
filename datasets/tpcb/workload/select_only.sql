-- bank: pgbench's built-in select-only transaction, written out.
\set aid random(1, :n_pgbench_accounts)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
