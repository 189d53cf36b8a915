# hoist — build and test. `make test` is the one command that checks everything;
# it installs what the tests need (versitygw, MinIO, SeaweedFS, the AWS JS SDK,
# Uppy Companion) on first use.

GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
VERSITYGW := $(GOBIN)/versitygw
STATICCHECK := $(GOBIN)/staticcheck
# The real servers of the conformance tests (internal/conformance), pinned so
# CI builds the same ones; each is built once and cached in GOBIN.
MINIO_VERSION     := v0.0.0-20260212201848-7aac2a2c5b7c
SEAWEEDFS_VERSION := v0.0.0-20261109003541-7506e5f91cd6
MINIO     := $(GOBIN)/minio
WEED      := $(GOBIN)/weed
# The AWS JS SDK v3 presigner, from package-lock.json through the npm cache.
JSPRESIGN := internal/jspresign/node_modules/.package-lock.json
# A count, not a duration: go1.26's fuzz coordinator can fail a run with a bare
# "context deadline exceeded" when a duration runs out (go.dev/issue/75804).
FUZZTIME  ?= 60000x

export HOIST_VERSITYGW := $(VERSITYGW)
export HOIST_MINIO     := $(MINIO)
export HOIST_WEED      := $(WEED)

.PHONY: build test unit fuzz e2e deps companion minio weed

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

deps: $(VERSITYGW) $(STATICCHECK) minio weed $(JSPRESIGN) companion

$(STATICCHECK):
	GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

$(VERSITYGW):
	GOBIN=$(GOBIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

# Rebuilt only when the binary is missing or is another version.
minio:
	@$(GO) version -m $(MINIO) 2>/dev/null | grep -q 'github.com/minio/minio[[:space:]]*$(MINIO_VERSION)' || \
		{ echo "building MinIO $(MINIO_VERSION) (a few minutes)"; GOBIN=$(GOBIN) $(GO) install github.com/minio/minio@$(MINIO_VERSION); }

weed:
	bash scripts/install-seaweedfs.sh $(SEAWEEDFS_VERSION) $(WEED)

$(JSPRESIGN): internal/jspresign/package-lock.json internal/jspresign/package.json
	cd internal/jspresign && npm ci --no-audit --no-fund --loglevel=error </dev/null

companion:
	bash scripts/install-companion.sh
