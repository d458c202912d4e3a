# Atoll build, test and benchmark entry points.
GO      ?= go
BIN     := bin
PKGS    := ./...
BENCH   ?= .
BENCHTIME ?= 1x

.PHONY: all build runtimes test lint fmt-check vet unit bench bench-overhead devnet clean

all: build

build: runtimes
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/atoll ./cmd/atoll

# The example runtime kvstore, versions 1 and 2: static, reproducible binaries and their bundles.
runtimes:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -o $(BIN)/kvstore-v1 ./runtime/examples/kvstore/cmd/kvstore-v1
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -o $(BIN)/kvstore-v2 ./runtime/examples/kvstore/cmd/kvstore-v2
	$(GO) run ./runtime/examples/kvstore/mkbundle -version 1 -executable $(BIN)/kvstore-v1 -out $(BIN)/kvstore-v1.atb
	$(GO) run ./runtime/examples/kvstore/mkbundle -version 2 -executable $(BIN)/kvstore-v2 -out $(BIN)/kvstore-v2.atb

# The test command of the README: formatting, vet, then every test with the race detector.
test: lint unit

lint: fmt-check vet

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit: build
	$(GO) test -race -count=1 -timeout 25m $(PKGS)

# Benchmarks print their figures (ops/s as custom metrics); see README.md "Benchmarks".
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -timeout 60m $(PKGS)

# The host protocol's overhead on a 1000-tx ExecuteTxBatch (DESIGN.md §11): in-process and
# sandboxed batches interleaved in one process; medians of wall and CPU time and the overhead in %.
bench-overhead:
	$(GO) test -run '^$$' -bench ExecuteTxBatch1000InsertsOverhead -benchtime 60x -count 4 -timeout 30m ./runtime/host/hosttest/

devnet: build
	$(BIN)/atoll devnet

clean:
	rm -rf $(BIN)
