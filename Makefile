# bluegreen: build, test and generate. `make help` lists the targets.

GO       ?= go
BIN      ?= bin/bluegreen
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  ?= -s -w -X main.version=$(VERSION)
# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 20s
# The port `make moto` listens on (make moto PORT=5001).
PORT     ?= 5000
# The packages `make bench` runs, and where it writes its figures
# (BENCHMARKS.md quotes them).
BENCH_PKGS ?= ./...
BENCH_OUT  ?= docs/bench
# Measured runs of each side of each comparison scripts/bench makes.
BENCH_ROUNDS ?= 10

# CI=true turns a missing nginx, PostgreSQL, chromium or moto_server from a skipped
# integration test into a failed one; pass it on when it is set.
ifdef CI
export CI
endif

# moto comes from pyenv's python3 (Debian's python3 lacks it); its shims
# are not on PATH in a non-login shell such as CI's.
export PATH := $(HOME)/.pyenv/shims:$(PATH)

.PHONY: help build test generate lint demo demo-env demo-env-stop bench fuzz cover clean moto

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# Every binary is static (CGO off): it runs on any Linux, Alpine and old
# glibc workers included. TestMakeBuildIsStatic checks it.
build: ## build bin/bluegreen (static)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/bluegreen

test: ## run every test, integration tests included (they start moto, nginx and PostgreSQL themselves)
	$(GO) test ./... -count=1 -timeout 45m

generate: ## regenerate the runbook schema, the Octopus step templates and docs/steps.md
	@mkdir -p runbooks templates docs
	$(GO) run ./cmd/bluegreen schema > runbooks/runbook.schema.json.tmp
	mv runbooks/runbook.schema.json.tmp runbooks/runbook.schema.json
	$(GO) run ./cmd/bluegreen templates export --out templates
	$(GO) run ./cmd/bluegreen docs --out docs/steps.md

lint: ## gofmt and go vet
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

demo: ## a whole weighted-DNS release and a rollback against moto (scripts/demo.sh)
	bash scripts/demo.sh

# demo-env's moto_server port and output folder.
PORT     ?= 5000
DEMO_DIR ?= .demo

demo-env: ## start moto on 127.0.0.1:PORT in the background with the demo's stacks; writes DEMO_DIR/inputs.yaml, alb-inputs.yaml and env
	$(GO) run ./scripts/demo-env --port $(PORT) --dir $(DEMO_DIR)

demo-env-stop: ## stop the moto_server demo-env started
	@if [ -f $(DEMO_DIR)/moto.pid ]; then \
		pid=$$(cat $(DEMO_DIR)/moto.pid); kill -TERM -$$pid 2>/dev/null || true; \
		for i in 1 2 3 4 5; do kill -0 $$pid 2>/dev/null || break; sleep 1; done; \
		kill -KILL -$$pid 2>/dev/null || true; rm -f $(DEMO_DIR)/moto.pid; echo "moto_server (pid $$pid) stopped"; \
	else echo "no demo environment running ($(DEMO_DIR)/moto.pid not found)"; fi

# The Go benchmarks' output is kept in $(BENCH_OUT)/go-bench.txt; then
# scripts/bench times bluegreen beside the AWS CLI on moto and writes every
# figure, the engine's ratios included, to $(BENCH_OUT)/results.md. Nothing
# here fails on a slow run: figures are reported, not judged.
bench: build ## Go benchmarks and the comparison with the alternatives (figures in docs/bench)
	@mkdir -p $(BENCH_OUT)
	BLUEGREEN_BENCH_BIN=$(abspath $(BIN)) $(GO) test $(BENCH_PKGS) -p 1 -run '^$$' -bench . -benchmem -count=1 -timeout 30m > $(BENCH_OUT)/go-bench.txt 2>&1; \
		status=$$?; cat $(BENCH_OUT)/go-bench.txt; exit $$status
	$(GO) run ./scripts/bench -bin $(BIN) -rounds $(BENCH_ROUNDS) -gobench $(BENCH_OUT)/go-bench.txt -out $(BENCH_OUT)/results.md

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s; \
		done; \
	done

cover: ## tests with a coverage report in coverage.html
	$(GO) test ./... -count=1 -timeout 45m -coverprofile=coverage.out
	$(GO) tool cover -html=coverage.out -o coverage.html

moto: ## run moto_server on 127.0.0.1:$(PORT) (default 5000) in the foreground, for trying runbooks by hand
	@echo "moto_server on http://127.0.0.1:$(PORT) (AWS_ENDPOINT_URL=http://127.0.0.1:$(PORT)); Ctrl-C stops it"
	@PATH="$$HOME/.pyenv/shims:$$PATH"; \
	if command -v moto_server >/dev/null; then exec moto_server -H 127.0.0.1 -p $(PORT); \
	else exec python3 -m moto.server -H 127.0.0.1 -p $(PORT); fi

clean: ## remove build and coverage output
	rm -rf bin coverage.out coverage.html
