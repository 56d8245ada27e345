#!/usr/bin/env bash
# Builds the pinned Temporal CLI (the dev server used by `make dev` and the tests) into ./bin.
# Skipped when ./bin/temporal already reports the pinned version. Building from source takes
# about 5 minutes once; the Go build cache makes later builds quick.
set -euo pipefail
version="1.5.1"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/bin/temporal"
command -v go >/dev/null || { echo "temporal-cli: Go is required (https://go.dev/dl)" >&2; exit 1; }
# `go install` leaves the CLI's own --version at 0.0.0-DEV, so read the module version that the
# binary's build information records.
if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -qE "^\s+mod\s+github.com/temporalio/cli\s+v$version\b"; then
  exit 0
fi
echo "temporal-cli: building github.com/temporalio/cli/cmd/temporal@v$version into ./bin (about 5 minutes the first time)" >&2
mkdir -p "$root/bin"
# GOFLAGS=-mod=mod keeps the build outside this module's go.mod: the server is not our dependency.
GOBIN="$root/bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@v$version"
go version -m "$bin" | grep -E "^\s+mod\s" >&2
