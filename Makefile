# Sportello: `make run` starts everything on this machine, `make test` runs
# every check. Both install what they need (PostgreSQL via apt when root, the
# Temporal CLI via `go install`).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
TEMPORAL_CLI_VERSION := v1.5.1
GO_FILES_CMD := find . -name '*.go' -not -path './bin/*' -not -path './.data/*' -not -path './node_modules/*' -not -path './.git/*'

.PHONY: help deps assets build run test lint contract-lint generate fuzz bench bench-smoke clean image

help:
	@echo "make run     start PostgreSQL, Temporal (with Web UI), the worker and the API on this machine"
	@echo "make test    go vet, gofmt check, and every test with the race detector (real PostgreSQL and Temporal)"
	@echo "make fuzz    the Go fuzz targets (forms, codice fiscale, JSON decoding, money), a fixed number of executions each (FUZZTIME overrides)"
	@echo "make bench   journeys/s against a bare-workflow baseline on the same server, POST latency, the surge"
	@echo "make bench-smoke   every benchmark once at a tiny size (part of make test)"
	@echo "make build   build bin/sportello (after make assets)"
	@echo "make assets  npm ci in api/web and api/redocly-cli; copy Bootstrap Italia, htmx and Chart.js into api/web/static/vendor"
	@echo "make contract-lint   Redocly's recommended rules on api/openapi.json, failing on any warning (part of make test)"
	@echo "make generate   regenerate the typed Go client internal/apiclient from api/openapi.json (oapi-codegen)"
	@echo "make deps    install PostgreSQL, a C compiler (for -race), nodejs/npm, chromium and poppler-utils with apt-get when missing (root only)"
	@echo "make bin/temporal   build the Temporal CLI $(TEMPORAL_CLI_VERSION) (dev server + Web UI) into bin/"
	@echo "make clean CONFIRM=1   remove bin/ and .data/ (all local state)"
	@echo "make cluster   the local cluster: Temporal server (frontend, history, matching, worker) on PostgreSQL, Web UI, 2 APIs behind a proxy, 2 workers (.data/cluster)"
	@echo "make cluster-test   the cluster under load with an API, a worker and Temporal's history killed; throughput with 1 and 2 workers"
	@echo "make image  build the container image (deploy/Dockerfile) with docker or podman; IMAGE=name:tag (default sportello:dev)"

# System packages: PostgreSQL server binaries (skipped when tests use an
# external server), a C compiler, which the race detector needs, headless
# Chromium for the browser tests ($SPORTELLO_CHROMIUM or /usr/bin/chromium)
# and poppler-utils (pdfinfo, pdftotext, pdffonts, pdftoppm) for the PDF tests.
deps:
	@missing=""; \
	if [ -z "$${SPORTELLO_TEST_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 \
	   && ! command -v postgres >/dev/null 2>&1; then missing=" postgresql"; fi; \
	if ! command -v gcc >/dev/null 2>&1; then missing="$$missing gcc libc6-dev"; fi; \
	if ! command -v npm >/dev/null 2>&1; then missing="$$missing nodejs npm"; fi; \
	if [ ! -x "$${SPORTELLO_CHROMIUM:-/usr/bin/chromium}" ]; then missing="$$missing chromium"; fi; \
	for p in pdfinfo pdftotext pdffonts pdftoppm; do \
	  if ! command -v $$p >/dev/null 2>&1; then missing="$$missing poppler-utils"; break; fi; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "deps: system packages present"; \
	elif [ "$$(id -u)" -eq 0 ]; then \
	  echo "deps: installing with apt-get:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update; \
	  apt-get install -y --no-install-recommends $$missing; \
	else \
	  echo "deps: missing system packages: $$missing" >&2; \
	  echo "deps: run 'sudo make deps' (or 'sudo apt-get install -y $$missing');" >&2; \
	  echo "deps: for PostgreSQL you may instead set SPORTELLO_TEST_DATABASE_URL / DATABASE_URL to an existing server." >&2; \
	  exit 1; \
	fi

# The Temporal CLI with its dev server and Web UI, built from Go modules
# (about 10 minutes the first time, cached by Go afterwards).
bin/temporal:
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (slow the first time)"
	GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

# Front-end assets from npm (api/web/package-lock.json), copied into the
# embedded static folder: nothing is loaded from a CDN at run time.
WEB := api/web
VENDOR := $(WEB)/static/vendor
BI_DIST := $(WEB)/node_modules/bootstrap-italia/dist

assets:
	@if ! command -v npm >/dev/null 2>&1; then echo "assets: npm is missing; run 'make deps' as root (or apt-get install -y nodejs npm)" >&2; exit 1; fi
	@if [ ! -d $(WEB)/node_modules ] || [ $(WEB)/package-lock.json -nt $(WEB)/node_modules/.package-lock.json ]; then \
	  echo "assets: npm ci in $(WEB)"; \
	  (cd $(WEB) && npm ci --no-audit --no-fund); \
	fi
	@mkdir -p $(VENDOR)/css $(VENDOR)/js $(VENDOR)/svg
	@cp -p $(BI_DIST)/css/bootstrap-italia.min.css $(VENDOR)/css/
	@cp -p $(BI_DIST)/js/bootstrap-italia.bundle.min.js $(VENDOR)/js/
	@rm -rf $(VENDOR)/fonts && cp -pR $(BI_DIST)/fonts $(VENDOR)/fonts
	@cp -p $(BI_DIST)/svg/sprites.svg $(VENDOR)/svg/
	@cp -p $(WEB)/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/js/
	@cp -p $(WEB)/node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/js/
	@if [ ! -d $(REDOCLY_DIR)/node_modules ] || [ $(REDOCLY_DIR)/package-lock.json -nt $(REDOCLY_DIR)/node_modules/.package-lock.json ]; then \
	  echo "assets: npm ci in $(REDOCLY_DIR)"; \
	  (cd $(REDOCLY_DIR) && npm ci --no-audit --no-fund); \
	fi
	@echo "assets: $(VENDOR) is up to date"

# The API contract: Redocly CLI (api/redocly-cli/package-lock.json) lints
# api/openapi.json with its recommended rules, every warning an error
# (recommended-strict in api/redocly.yaml), so that a warning fails.
REDOCLY_DIR := api/redocly-cli
contract-lint: assets
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  $(REDOCLY_DIR)/node_modules/.bin/redocly lint --config api/redocly.yaml --max-problems 1000 api/openapi.json

# The typed Go client of the API, generated from api/openapi.json by
# oapi-codegen at the version go.mod pins (its tool line);
# internal/apiclient's test fails when the committed code is stale.
generate:
	$(GO) generate ./internal/apiclient/

build: assets
	$(GO) build -o bin/sportello ./cmd/sportello

run: deps bin/temporal build
	bin/sportello dev

WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

# Static checks: go vet, gofmt, and Temporal's workflowcheck, which refuses
# non-deterministic calls (time.Now, rand, goroutines, map ranges...) in
# anything reachable from a workflow.
lint:
	$(GO) vet ./...
	$(GO) run $(WORKFLOWCHECK) ./workflows/...
	@unformatted="$$(gofmt -l $$($(GO_FILES_CMD)))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting (run gofmt -w):" >&2; echo "$$unformatted" >&2; exit 1; fi; \
	echo "gofmt: ok"

test: export SPORTELLO_TEMPORAL_BIN := $(CURDIR)/bin/temporal
test: deps assets bin/temporal lint contract-lint fuzz
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory bench-smoke

# Go native fuzz targets, package:target:executions. Their committed seed
# corpora (testdata/fuzz/<target>/) run as ordinary tests in every go test;
# here each target is also fuzzed for a number of executions (about ten
# seconds each on a quiet two-core machine). A count, not a duration: with a
# duration, Go 1.26's fuzz coordinator can report its own deadline as a
# failure when a worker is slow to stop (golang/go#75804, fixed in Go 1.27),
# which a busy CI machine hits now and then. FUZZTIME=30s (or 1000000x)
# overrides every target's budget. A failure is saved under testdata/fuzz:
# commit it with the fix.
FUZZTIME ?=
FUZZ_TARGETS := ./forms:FuzzValidate:300000x ./forms:FuzzTaxCode:300000x ./forms/htmlform:FuzzParseNumber:200000x \
	./api:FuzzDecodeJSON:10000x ./api/web:FuzzParseEuroInput:20000x ./api:FuzzParseISEE:20000x \
	./internal/textcheck:FuzzNeutralize:30000x

fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg="$${t%%:*}"; rest="$${t#*:}"; name="$${rest%%:*}"; budget="$(FUZZTIME)"; [ -n "$$budget" ] || budget="$${rest#*:}"; \
	  echo "fuzz: $$name ($$pkg) for $$budget"; \
	  $(GO) test -run "^$$name\$$" -fuzz "^$$name\$$" -fuzztime "$$budget" "$$pkg"; \
	done

# Figures are ratios against a baseline measured in the same run; tune with
# BENCH_JOURNEYS, BENCH_JOURNEY_ROUNDS, BENCH_CONCURRENCY, BENCH_RATE,
# BENCH_SECONDS (docs/benchmarks.md, "Running them").
bench: export SPORTELLO_TEMPORAL_BIN := $(CURDIR)/bin/temporal
bench: deps bin/temporal
	@mkdir -p bin
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 45m ./internal/bench/ | tee bin/bench.log
	@echo; echo "summary (name value unit target verdict), also in bin/bench.log:"
	@grep -E '^[a-z0-9_]+ -?[0-9.]+ [^ ]+ [^ ]+ (PASS|MISS)$$' bin/bench.log | tee bin/bench-summary.txt
	@echo "$$(grep -c ' PASS$$' bin/bench-summary.txt || true) PASS, $$(grep -c ' MISS$$' bin/bench-summary.txt || true) MISS"

# Every benchmark once at a tiny size, so that none can rot unseen (part of
# make test; the figures come from make bench).
BENCH_TINY := BENCH_JOURNEYS=4 BENCH_JOURNEY_ROUNDS=2 BENCH_CONCURRENCY=2 BENCH_RATE=5 BENCH_SECONDS=1 BENCH_BOOKINGS=2 BENCH_BOOKINGS_ROUNDS=2 \
  BENCH_SERVICES=50 BENCH_CATALOGUE_REQUESTS=20 BENCH_PAYMENTS=20 BENCH_PAYMENTS_CONCURRENCY=2 \
  BENCH_CASES=2000 BENCH_SCALE_REQUESTS=20 BENCH_SURGE=16 BENCH_SURGE_CONCURRENCY=4 BENCH_DB_JOURNEYS=2 BENCH_DB_CONCURRENCY=2
bench-smoke: export SPORTELLO_TEMPORAL_BIN := $(CURDIR)/bin/temporal
bench-smoke: bin/temporal
	$(BENCH_TINY) $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 20m ./internal/bench/

# The container image of deploy/Dockerfile (assets, binary, distroless
# run-time stage), with whichever container tool answers: docker with a
# running daemon, else podman. CONTAINER_TOOL=... forces one.
IMAGE ?= sportello:dev
image:
	@tool="$${CONTAINER_TOOL:-}"; \
	if [ -z "$$tool" ]; then \
	  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then tool=docker; \
	  elif command -v podman >/dev/null 2>&1; then tool=podman; fi; \
	fi; \
	if [ -z "$$tool" ]; then \
	  echo "image: no container tool answers here: docker is $$(command -v docker >/dev/null 2>&1 && echo 'installed but its daemon does not answer (docker info)' || echo missing), podman is missing." >&2; \
	  echo "image: start the docker daemon or install podman, or build elsewhere: docker build -f deploy/Dockerfile -t $(IMAGE) ." >&2; \
	  exit 1; \
	fi; \
	echo "image: $$tool build -f deploy/Dockerfile -t $(IMAGE) ."; \
	$$tool build -f deploy/Dockerfile -t $(IMAGE) .

clean:
ifeq ($(CONFIRM),1)
	rm -rf bin .data
else
	@echo "make clean deletes bin/ (the Temporal CLI takes minutes to rebuild) and .data/ (the local database and" >&2
	@echo "Temporal state). Stop 'sportello dev' first, then run: make clean CONFIRM=1" >&2
	@exit 1
endif

# The local cluster: make cluster, make cluster-test (deploy/cluster.mk).
include deploy/cluster.mk
