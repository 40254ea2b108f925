# The two commands a user needs: `make demo` and `make test`.
GO       ?= go
CC       ?= gcc
BUILD    := build
ENGINE   := $(wildcard libmemif/*.c)
HEADERS  := $(wildcard libmemif/*.h)
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CTEST_FLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -g -O1 $(SAN)

.PHONY: all build engine test deps c-test vet go-test race sanitize system-test bench fuzz soak tools demo clean docker docker-images docker-test

all: build

build:
	$(GO) build ./...

# cgo/engine.c from libmemif/: run after editing the engine (a test checks).
engine:
	$(GO) run ./internal/enginesrc/gen

# Everything CI runs. Installs the DPDK peer when root and missing.
test: deps c-test vet go-test race sanitize system-test docker

deps:
	@if ! command -v dpdk-testpmd >/dev/null 2>&1 || ! ls /usr/lib/*/dpdk/pmds-*/librte_net_memif.so* >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing the DPDK memif peer (dpdk-testpmd)"; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends dpdk-dev librte-net-memif23 >/dev/null; \
	  else \
	    echo "dpdk-testpmd missing: sudo apt-get install dpdk-dev librte-net-memif23 (interop tests will skip)"; \
	  fi; \
	fi

# The engine's C tests under AddressSanitizer and UBSan.
$(BUILD)/test_%: libmemif/tests/test_%.c $(ENGINE) $(HEADERS) libmemif/tests/check.h
	@mkdir -p $(BUILD)
	$(CC) $(CTEST_FLAGS) $< $(ENGINE) -o $@

c-test: $(BUILD)/test_wire $(BUILD)/test_loop $(BUILD)/test_api
	$(BUILD)/test_wire
	$(BUILD)/test_loop
	$(BUILD)/test_api

vet:
	$(GO) vet ./...

go-test:
	$(GO) test -count=1 ./...

race:
	$(GO) test -race -count=1 ./...

# The Go suites that drive the engine (disconnects, hostile peers,
# reconnects: paths the C tests never reach) with the engine itself built
# under AddressSanitizer, then under UBSan.
sanitize:
	$(GO) test -asan -count=1 ./cgo/ ./mcmdp/
	CGO_CFLAGS="-O1 -g -fsanitize=undefined -fno-sanitize-recover=all" CGO_LDFLAGS="-fsanitize=undefined" \
	  $(GO) test -count=1 ./cgo/ ./mcmdp/

# The libmemif_system build: our engine built as a shared libmemif with a
# pkg-config file stands in for an upstream libmemif 4.x install (Debian has
# none), so the tag split is compiled, linked and run.
SYS := $(abspath $(BUILD)/system)
system-test: $(SYS)/lib/libmemif.so
	PKG_CONFIG_PATH=$(SYS)/lib/pkgconfig \
	CGO_CFLAGS="$$(PKG_CONFIG_PATH=$(SYS)/lib/pkgconfig pkg-config --cflags libmemif 2>/dev/null || echo -I$(SYS)/include)" \
	CGO_LDFLAGS="$$(PKG_CONFIG_PATH=$(SYS)/lib/pkgconfig pkg-config --libs libmemif 2>/dev/null || echo -lmemif) -L$(SYS)/lib -Wl,-rpath,$(SYS)/lib" \
	$(GO) test -count=1 -tags libmemif_system ./cgo/

$(SYS)/lib/libmemif.so: $(ENGINE) $(HEADERS)
	@mkdir -p $(SYS)/lib/pkgconfig $(SYS)/include
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -fPIC -shared $(ENGINE) -o $@
	cp libmemif/libmemif.h $(SYS)/include/
	printf 'prefix=%s\nName: libmemif\nDescription: memif (stand-in)\nVersion: 4.0\nCflags: -I$${prefix}/include\nLibs: -L$${prefix}/lib -lmemif\n' $(SYS) > $(SYS)/lib/pkgconfig/libmemif.pc

# Builds against an installed upstream libmemif: pkg-config libmemif, else -lmemif.
build-system:
	CGO_CFLAGS="$$(pkg-config --cflags libmemif 2>/dev/null)" \
	CGO_LDFLAGS="$$(pkg-config --libs libmemif 2>/dev/null || echo -lmemif)" \
	$(GO) build -tags libmemif_system ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./cgo/ ./mcmdp/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeMessage -fuzztime 60s ./cgo/

# Long-lived tools whose peers are killed or cycle again and again keep
# their fds, mappings, threads and memory (make test runs a short version).
soak:
	MCM_SOAK=full $(GO) test -count=1 -run Soak -v -timeout 60m ./cmd/toolstest/ | grep -v '^=== RUN'

tools:
	@mkdir -p bin
	$(GO) build -o bin/ ./cmd/mcm-send ./cmd/mcm-recv

# The main job: a receiver and a sender move 1080p60 frames for 3 seconds
# through shared memory and print their summaries.
DEMO_DIR := $(BUILD)/demo
demo: tools
	@mkdir -p $(DEMO_DIR) && rm -f $(DEMO_DIR)/recv.out
	@MCM_RUN_DIR=$(abspath $(DEMO_DIR)) bin/mcm-recv > $(DEMO_DIR)/recv.out 2>&1 & \
	  MCM_RUN_DIR=$(abspath $(DEMO_DIR)) bin/mcm-send --duration 3s; s=$$?; \
	  wait $$!; r=$$?; cat $(DEMO_DIR)/recv.out; \
	  test $$s -eq 0 -a $$r -eq 0

# The Docker checks, whenever a Docker daemon answers; with CI=true a missing
# daemon is a failure.
docker:
	@if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory docker-test; \
	elif [ "$$CI" = true ]; then \
	  echo "CI=true and no Docker daemon answers (docker version)"; exit 1; \
	else \
	  echo "no Docker daemon answers: skipping docker-test"; \
	fi

# The base images when missing (no registry here: docker/base-images.sh makes
# them from Debian's packages and Go's module proxy), then both targets.
DOCKER_LOG := $(BUILD)/docker-build.log
docker-images:
	@mkdir -p $(BUILD)
	@t=$$(date +%s); docker/base-images.sh && echo "base images ready in $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); rev=$$(git rev-parse HEAD 2>/dev/null || echo unknown); \
	  for target in tools:mcm-memif:latest testpmd:mcm-memif:testpmd; do \
	    tg=$${target%%:*}; tag=$${target#*:}; \
	    docker build --force-rm --target $$tg --build-arg REVISION=$$rev -t $$tag . >$(DOCKER_LOG) 2>&1 \
	      || { tail -40 $(DOCKER_LOG); echo "docker build --force-rm --target $$tg failed: $(DOCKER_LOG)"; exit 1; }; \
	  done; \
	  echo "images mcm-memif:latest and mcm-memif:testpmd built in $$(( $$(date +%s) - t )) s"; \
	  docker image ls mcm-memif

# Two containers that share only the socket volume (compose.yaml), and
# mcm-recv against dpdk-testpmd txonly (compose.testpmd.yaml); see
# internal/dockertest. `go test ./...` skips these without MCM_DOCKER_TEST=1.
docker-test: docker-images
	MCM_DOCKER_TEST=1 $(GO) test -count=1 -v -timeout 10m ./internal/dockertest/

clean:
	rm -rf $(BUILD) bin
