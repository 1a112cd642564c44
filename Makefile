# driftcheck — build, test, benchmark, lint.
export PATH := /usr/local/go/bin:$(PATH)
GO        ?= go
BIN       ?= bin/driftcheck
PKGS      ?= ./...
STATICCHECK_VERSION ?= v0.8.2
# The integration tests boot systemd sandboxes and talk to dockerd; CI runs them all.
TEST_FLAGS ?= -count=1 -timeout 40m
BENCH_FLAGS ?= -run '^$$' -bench . -benchmem -count 1 -timeout 30m

.PHONY: all build test bench lint fuzz demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/driftcheck

## test: the whole test suite — the command .ci/run runs. scripts/test-prereqs
## says what is missing and the one command that installs it.
test:
	@scripts/test-prereqs
	$(GO) test $(TEST_FLAGS) $(PKGS)

## bench: benchmarks against their named baselines (nix-instantiate, systemctl, docker CLI).
bench:
	$(GO) test $(BENCH_FLAGS) $(PKGS)

lint:
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

## fuzz: a short run of every fuzz target (seed corpora run in `make test` anyway).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./internal/nix/parser -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/nix/scanner -run '^$$' -fuzz FuzzScanLinear -fuzztime $(FUZZTIME)
	$(GO) test ./internal/declared -run '^$$' -fuzz FuzzExtract -fuzztime $(FUZZTIME)
	$(GO) test ./internal/gitrev -run '^$$' -fuzz FuzzGlobs -fuzztime $(FUZZTIME)
	$(GO) test ./internal/gitrev -run '^$$' -fuzz FuzzPackReader -fuzztime $(FUZZTIME)
	$(GO) test ./internal/gitrev -run '^$$' -fuzz FuzzLooseObject -fuzztime $(FUZZTIME)
	$(GO) test ./internal/termsafe -run '^$$' -fuzz FuzzStringHasNoControl -fuzztime $(FUZZTIME)
	$(GO) test ./internal/termsafe -run '^$$' -fuzz FuzzEscapeJSONKeepsTheValue -fuzztime $(FUZZTIME)

## demo: replay the docker-prune / ci-docker-prune incident (scripts/demo --install to apt-get what is missing).
demo:
	scripts/demo

clean:
	rm -rf bin
