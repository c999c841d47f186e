-- The schema is created by `pgbench -i` (pgbench_init = true in dataset.toml); kept here so the
-- dataset has the same layout as the others. Documented copy of what pgbench creates:
-- pgbench_branches(bid int primary key, bbalance int, filler char(88))
-- pgbench_tellers(tid int primary key, bid int, tbalance int, filler char(84))
-- pgbench_accounts(aid int primary key, bid int, abalance int, filler char(84))
-- pgbench_history(tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))
SELECT 1;
