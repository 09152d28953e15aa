# Kiln. `make` lists the targets.

GO            ?= go
BIN           := bin
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DRIVERPB      := github.com/kilnstorage/kiln/sdk/internal/driverpb
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build every binary into bin/.
	@mkdir -p $(BIN)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kiln ./host
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kiln-driver-fake ./plugins/fake
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kiln-driver-file ./plugins/file
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kiln-driver-lvm ./plugins/lvm

.PHONY: run
run: build ## Run the agent with embedded defaults (kiln agent -dev: SQLite, noauth, fake and file backends).
	./$(BIN)/kiln agent -dev

.PHONY: test
test: ## Run every test with the race detector.
	$(GO) test -race -count=1 ./...

.PHONY: bench
bench: ## Run the benchmarks.
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: lint
lint: ## gofmt, go vet and staticcheck (pinned).
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

.PHONY: generate
generate: ## Regenerate the protobuf code (needs protoc from Debian's protobuf-compiler).
	protoc --proto_path=sdk/proto \
		--plugin=protoc-gen-go="$$($(GO) tool -n protoc-gen-go)" \
		--plugin=protoc-gen-go-grpc="$$($(GO) tool -n protoc-gen-go-grpc)" \
		--go_out=sdk/internal/driverpb --go_opt=module=$(DRIVERPB) \
		--go-grpc_out=sdk/internal/driverpb --go-grpc_opt=module=$(DRIVERPB) \
		kiln/driver/v1/driver.proto

.PHONY: check
check: lint test ## lint + test + no diff after generate and go mod tidy.
	$(MAKE) generate
	$(GO) mod tidy
	git diff --exit-code -- sdk/internal/driverpb go.mod go.sum

.PHONY: clean
clean: ## Remove bin/.
	rm -rf $(BIN)
