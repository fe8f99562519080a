#!/usr/bin/env bash
# Install the PostgreSQL server binaries the postgresql:// tests need (tests/pg.py starts a
# throwaway cluster from them), from Debian's packages, when they are missing. Idempotent:
# does nothing when initdb/pg_ctl are already present. Needs root (CI runs as root).
# No default cluster is created: the tests make their own on a free port.
set -euo pipefail

have_postgres() {
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null && return 0
  if command -v pg_config >/dev/null 2>&1; then
    [ -x "$(pg_config --bindir)/pg_ctl" ] && return 0
  fi
  return 1
}

if have_postgres; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: PostgreSQL is not installed and cannot be installed here (needs root and apt-get);" \
       "the postgresql:// tests will be skipped outside CI" >&2
  exit 0
fi
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have_postgres || { echo "error: installing PostgreSQL did not provide pg_ctl" >&2; exit 1; }
