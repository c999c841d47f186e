#!/usr/bin/env bash
# OS packages the test suite covers beyond the embedded server: PostgreSQL 15 with HypoPG, used
# through WORKBENCH_PG_BINDIR=/usr/lib/postgresql/15/bin, and Chromium, which opens the rendered
# reports in tests/test_browser.py. Installed only when running as root with apt; elsewhere
# their tests are skipped with a reason.
set -euo pipefail
wanted=()
[ -f /usr/share/postgresql/15/extension/hypopg.control ] || wanted+=(postgresql-15 postgresql-15-hypopg)
command -v chromium >/dev/null || wanted+=(chromium)
[ ${#wanted[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: ${wanted[*]} not installed (needs root and apt); their tests will skip" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
