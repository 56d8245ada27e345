# jitaccess — two commands set everything up on a fresh machine with Go:
#   make dev    run the whole product with demo data
#   make test   run the whole suite (needs PostgreSQL; see README)
#   make stack  run the production topology: Temporal server on PostgreSQL, 2 workers, 2 APIs
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
export JIT_TEMPORAL_CLI ?= $(BIN)/temporal

.PHONY: dev test build build-bench build-stack extension temporal temporal-server stack stack-down vet bench bench-production chaos clean-dev

build:
	$(GO) build -o $(BIN)/jitaccess ./cmd/jitaccess

build-bench:
	$(GO) build -o $(BIN)/jitaccess-bench ./cmd/jitaccess-bench

build-stack:
	$(GO) build -o $(BIN)/jitaccess-stack ./cmd/jitaccess-stack

temporal:
	@./scripts/temporal-cli.sh

# The Temporal server and its SQL schema tool, built from source (several minutes once).
temporal-server:
	@./scripts/temporal-server.sh

dev: temporal build
	$(BIN)/jitaccess dev

# The suite: unit tests, store tests on PostgreSQL and SQLite, HTTP tests, workflow tests with
# time skipping, end-to-end tests on the real Temporal dev server and the Entra emulator.
test: temporal build
	@./scripts/check-postgres.sh
	$(GO) vet ./...
	node --test extension/test/
	$(GO) test -count=1 -timeout 25m ./...

# The browser extension as a zip for Chrome and Edge (unpacked: load the extension/ folder).
extension:
	$(GO) run ./internal/extpack -src extension -version-file VERSION

# The production topology on this machine (README "Production topology"); Ctrl-C or
# `make stack-down` stops it. STACK_FLAGS passes flags, e.g. STACK_FLAGS="--addr 127.0.0.1:9180 --reset".
stack: temporal-server build build-stack
	$(BIN)/jitaccess-stack $(STACK_FLAGS)

stack-down: build-stack
	$(BIN)/jitaccess-stack down $(STACK_FLAGS)

bench: temporal build-bench
	$(BIN)/jitaccess-bench --quick

# The same scenarios on the production topology (Temporal server on PostgreSQL, 2 workers, 2 APIs).
bench-production: temporal-server build build-bench
	$(BIN)/jitaccess-bench --quick --topology production

chaos: temporal build
	JIT_CHAOS_GRANTS=$${JIT_CHAOS_GRANTS:-120} JIT_CHAOS_OUT=$${JIT_CHAOS_OUT:-$(BIN)/chaos-report.json} $(GO) test -count=1 -timeout 30m -run Chaos ./internal/chaos/ -v

clean-dev:
	rm -rf .jitaccess
