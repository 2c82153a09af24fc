# Shipgate's build, test and release entry points.
GO        ?= go
BIN       ?= bin/shipgate
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
TAGS      ?= gore2regex
FUZZTIME  ?= 2s
export CGO_ENABLED = 0

.PHONY: build test test-deps unit fuzz lint bench scan policies image dist clean

## build: the static shipgate binary in bin/
build:
	$(GO) build -tags '$(TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shipgate

## test: everything CI runs — tools, vet, unit tests, each fuzz target briefly
test: test-deps
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) test -tags '$(TAGS)' -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory image
	bin/shipgate-linux-amd64 sbom --image dist/shipgate-image.docker.tar -q -o table -o cyclonedx-json=dist/shipgate-image.cdx.json
	scripts/dist.sh v0.0.0-ci linux/amd64 >/dev/null && cd dist && sha256sum -c SHA256SUMS
	TAGS='$(TAGS)' scripts/fuzz.sh $(FUZZTIME)

test-deps:
	scripts/test-deps.sh

## unit: the Go tests only
unit:
	$(GO) test -tags '$(TAGS)' ./...

## fuzz: run every fuzz target for FUZZTIME (e.g. make fuzz FUZZTIME=1m)
fuzz:
	TAGS='$(TAGS)' scripts/fuzz.sh $(FUZZTIME)

## lint: gofmt, go vet, staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags '$(TAGS)' ./...

## bench: Go benchmarks, then shipgate beside its peers on the same trees
bench:
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchmem ./...
	scripts/bench.sh

## scan: the gate on this repository (the local pre-push check)
scan:
	$(GO) run -tags '$(TAGS)' ./cmd/shipgate scan . --skip '**/testdata/**'

## image: the CI job image (no Docker engine needed) in dist/: docker-archive and OCI layout
image:
	scripts/test-deps.sh
	GOOS=linux GOARCH=amd64 $(GO) build -tags '$(TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o bin/shipgate-linux-amd64 ./cmd/shipgate
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) $(GO) run ./tools/mkimage -binary bin/shipgate-linux-amd64 -busybox /bin/busybox -version $(VERSION) -revision $$(git rev-parse HEAD 2>/dev/null) -tag shipgate:$(VERSION)

## dist: release archives for every platform and dist/SHA256SUMS
dist:
	scripts/dist.sh $(VERSION)

## policies: rebuild the built-in policies' .wasm
policies:
	policies/build.sh

clean:
	rm -rf bin dist
