#!/usr/bin/env bash
# OS packages the test suite covers beyond the embedded server: PostgreSQL 15 with HypoPG, used
# through WORKBENCH_PG_BINDIR=/usr/lib/postgresql/15/bin. Installed only when running as root with
# apt; elsewhere the PostgreSQL 15 tests are skipped with a reason.
set -euo pipefail
[ -f /usr/share/postgresql/15/extension/hypopg.control ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: PostgreSQL 15 + HypoPG not installed (needs root and apt); their tests will skip" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-15-hypopg >/dev/null
