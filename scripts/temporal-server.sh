#!/usr/bin/env bash
# Builds the Temporal server (go.temporal.io/server, the version the pinned CLI embeds) and its SQL
# schema tool into ./bin for `make stack` and the production-topology tests. Each binary is skipped
# when it already records the pinned module version. Building from source takes several minutes of
# CPU once; the Go build cache makes later builds quick. Never part of this module's go.mod.
set -euo pipefail
version="1.29.1"
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v go >/dev/null || { echo "temporal-server: Go is required (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$root/bin"

built() { # built <binary>: the binary exists and its build information records the pinned server module
  [ -x "$1" ] && go version -m "$1" 2>/dev/null | grep -qE "^\s+(path|mod)\s+go.temporal.io/server(/\S*)?\s+v$version\b"
}

# install <package> <binary name in ./bin>: go install names binaries after the package's last
# element (cmd/server -> server, cmd/tools/sql -> sql), so build into a scratch GOBIN and rename.
install() {
  local pkg="$1" name="$2" tmp
  if built "$root/bin/$name"; then return 0; fi
  echo "temporal-server: building $pkg@v$version into ./bin/$name (several minutes the first time)" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  # GOFLAGS=-mod=mod keeps the build outside this module's go.mod: the server is not our dependency.
  GOBIN="$tmp" GOFLAGS=-mod=mod go install "$pkg@v$version"
  mv "$tmp/$(basename "$pkg")" "$root/bin/$name"
  go version -m "$root/bin/$name" | grep -E "^\s+(path|mod)\s" | head -n 2 >&2
}

install go.temporal.io/server/cmd/server temporal-server
install go.temporal.io/server/cmd/tools/sql temporal-sql-tool
