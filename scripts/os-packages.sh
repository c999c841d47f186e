#!/usr/bin/env bash
# OS packages the test suite covers beyond the embedded server, from Debian:
# - PostgreSQL 15 with HypoPG and pg_wait_sampling, used through
#   WORKBENCH_PG_BINDIR=/usr/lib/postgresql/15/bin;
# - PgBouncer, which the workbench starts and stops itself (--via pgbouncer);
# - Chromium, which opens the rendered reports in tests/test_browser.py.
# Installed only when running as root with apt; elsewhere those tests are skipped with a reason.
set -euo pipefail
# package -> a file that is there once it is installed
declare -A PACKAGES=(
  [postgresql-15]=/usr/lib/postgresql/15/bin/postgres
  [postgresql-15-hypopg]=/usr/share/postgresql/15/extension/hypopg.control
  [postgresql-15-pg-wait-sampling]=/usr/share/postgresql/15/extension/pg_wait_sampling.control
  [pgbouncer]=/usr/sbin/pgbouncer
  [chromium]=/usr/bin/chromium
)
missing=()
for package in "${!PACKAGES[@]}"; do
  [ -e "${PACKAGES[$package]}" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: not installed (needs root and apt): ${missing[*]}; their tests will skip" >&2
  exit 0
fi
apt-get update -qq
# policy-rc.d: install the packages' files, never start their system services (the workbench
# starts its own PgBouncer on loopback, and its own servers).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
