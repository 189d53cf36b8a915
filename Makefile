# hoist — build and test. `make test` is the one command that checks everything;
# it installs what the tests need (versitygw, Uppy Companion) on first use.

GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
VERSITYGW := $(GOBIN)/versitygw
STATICCHECK := $(GOBIN)/staticcheck
# A count, not a duration: go1.26's fuzz coordinator can fail a run with a bare
# "context deadline exceeded" when a duration runs out (go.dev/issue/75804).
FUZZTIME  ?= 60000x

export HOIST_VERSITYGW := $(VERSITYGW)

.PHONY: build test unit fuzz e2e deps companion

build:
	$(GO) build -o hoist .

# Everything CI runs.
test: deps unit fuzz e2e

unit: $(STATICCHECK)
	test -z "$$(gofmt -l . | tee /dev/stderr)"
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# Each fuzz target briefly (~10 s each here); the seed corpora under testdata/fuzz also run in `unit`.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x ./inspect
	$(GO) test -run '^$$' -fuzz '^FuzzParseManifest$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x ./source
	$(GO) test -run '^$$' -fuzz '^FuzzParseServerError$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x ./uploader

# The real binary: a fresh run against the embedded store, and the TUI in tmux.
e2e: build
	bash scripts/fresh-check.sh ./hoist
	bash scripts/e2e-tui.sh ./hoist

deps: $(VERSITYGW) $(STATICCHECK) companion

$(STATICCHECK):
	GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

$(VERSITYGW):
	GOBIN=$(GOBIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

companion:
	bash scripts/install-companion.sh
