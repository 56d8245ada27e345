#!/usr/bin/env bash
# Fails with one clear line when the PostgreSQL the tests need cannot be reached.
set -uo pipefail
url="${JIT_TEST_DATABASE_URL:-${JIT_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}}"
if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -q -d "$url" -t 5; then
    echo "make test: PostgreSQL is not reachable at ${url%%\?*} — start it (e.g. pg_ctlcluster 15 main start) or set JIT_DATABASE_URL to a server the tests may create databases on" >&2
    exit 1
  fi
fi
