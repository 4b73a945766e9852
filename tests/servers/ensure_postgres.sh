#!/bin/sh
# make test runs this before pytest: PostgreSQL's server programs must be on the machine for the
# database tests, which start their own throw-away cluster (tests/pg_server.py). Where they are
# missing and we are root on a Debian-like system, install the distribution's package; otherwise
# say what to do. Idempotent and quiet when PostgreSQL is already there.
set -eu
if [ "${DATAGEN_TEST_POSTGRES:-}" = "skip" ]; then exit 0; fi
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -r) "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then exit 0; fi
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "datagen tests: installing PostgreSQL (apt-get install -y postgresql) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
    exit 0
fi
echo "datagen tests: PostgreSQL is not installed; install it (e.g. apt-get install postgresql)," >&2
echo "or run with DATAGEN_TEST_POSTGRES=skip to skip the database tests" >&2
exit 1
