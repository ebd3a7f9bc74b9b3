# The local cluster (deploy/README.md, "Local cluster"): the Temporal server
# built from Go modules as four services on PostgreSQL, its Web UI, two APIs
# behind a proxy, two workers. Included by the Makefile.
#
# The server is the version the Temporal CLI of bin/temporal embeds
# (`bin/temporal --version`: Server 1.29.1, UI 2.42.1), the line of the
# Go SDK in go.mod. Building it takes minutes the first time (cached by Go
# afterwards).
TEMPORAL_SERVER_VERSION := v1.29.1
TEMPORAL_UI_SERVER_VERSION := v2.42.1
CLUSTER_BINS := bin/temporal-server bin/temporal-sql-tool bin/temporal-ui-server
CLUSTER_TEST_TIMEOUT ?= 60m

.PHONY: cluster cluster-bins cluster-test

# go install names a binary after its package's folder (server, sql):
# each is built into a folder of its own and renamed.
bin/temporal-server:
	@echo "building the Temporal server $(TEMPORAL_SERVER_VERSION) into bin/ (slow the first time)"
	@rm -rf bin/.build-temporal-server && mkdir -p bin/.build-temporal-server
	GOBIN=$(CURDIR)/bin/.build-temporal-server $(GO) install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION)
	mv bin/.build-temporal-server/server $@ && rm -rf bin/.build-temporal-server

bin/temporal-sql-tool:
	@echo "building Temporal's SQL schema tool $(TEMPORAL_SERVER_VERSION) into bin/"
	@rm -rf bin/.build-temporal-sql-tool && mkdir -p bin/.build-temporal-sql-tool
	GOBIN=$(CURDIR)/bin/.build-temporal-sql-tool $(GO) install go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
	mv bin/.build-temporal-sql-tool/sql $@ && rm -rf bin/.build-temporal-sql-tool

bin/temporal-ui-server:
	@echo "building Temporal's Web UI server $(TEMPORAL_UI_SERVER_VERSION) into bin/"
	@rm -rf bin/.build-temporal-ui-server && mkdir -p bin/.build-temporal-ui-server
	GOBIN=$(CURDIR)/bin/.build-temporal-ui-server $(GO) install github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_SERVER_VERSION)
	mv bin/.build-temporal-ui-server/server $@ && rm -rf bin/.build-temporal-ui-server

cluster-bins: $(CLUSTER_BINS)

# Starts everything and supervises it until Ctrl-C; state in .data/cluster.
# `bin/sportello cluster status|kill NAME|start NAME|restart NAME` from
# another terminal.
cluster: deps cluster-bins build
	bin/sportello cluster

# The cluster under load, with an API, a worker and Temporal's history
# service killed (SIGKILL) and started again; throughput with one worker
# against two. CLUSTER_JOURNEYS, CLUSTER_BOOKINGS and
# CLUSTER_THROUGHPUT_JOURNEYS change the sizes.
cluster-test: deps cluster-bins build
	@mkdir -p bin
	SPORTELLO_CLUSTER_BIN=$(CURDIR)/bin $(GO) test -tags cluster -count=1 -v -run '^TestCluster$$' -timeout $(CLUSTER_TEST_TIMEOUT) ./internal/faults/ | tee bin/cluster-test.log
	@echo; echo "summary (name value unit target verdict), also in bin/cluster-test-summary.txt:"
	@grep -E '^[a-z0-9_]+ -?[0-9.]+ [^ ]+ [^ ]+ (PASS|MISS)$$' bin/cluster-test.log | tee bin/cluster-test-summary.txt
