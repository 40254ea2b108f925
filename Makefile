# The two commands a user needs: `make demo` and `make test`.
GO       ?= go
CC       ?= gcc
BUILD    := build
ENGINE   := $(wildcard libmemif/*.c)
HEADERS  := $(wildcard libmemif/*.h)
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CTEST_FLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -g -O1 $(SAN)

.PHONY: all build engine test deps c-test vet go-test race sanitize system-test bench bench-testpmd fuzz fuzz-deps fuzz-replay soak cover tools demo clean docker docker-images docker-test

all: build

build:
	$(GO) build ./...

# cgo/engine.c from libmemif/: run after editing the engine (a test checks).
engine:
	$(GO) run ./internal/enginesrc/gen

# Everything CI runs. Installs the DPDK peer when root and missing.
test: deps c-test fuzz-replay vet go-test race sanitize system-test docker

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

# The engine's C tests, and its layers: includes only point down
# (internal/enginesrc/layers.go).
c-test: $(BUILD)/test_wire $(BUILD)/test_loop $(BUILD)/test_api $(BUILD)/test_upstream
	$(GO) test -count=1 -run 'Layers' ./internal/enginesrc/
	$(BUILD)/test_wire
	$(BUILD)/test_loop
	$(BUILD)/test_api
	$(BUILD)/test_upstream

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

# Every benchmark of the seam and the API (raw lines, benchstat's input,
# kept in build/bench.txt), then benchtable's summary: the size sweep as one
# table and one row for each other benchmark. BENCHFLAGS adds go test flags
# (e.g. BENCHFLAGS=-count=3: medians of three).
BENCHFLAGS ?=
bench: bench-testpmd
	@mkdir -p $(BUILD)
	@{ $(GO) test -run '^$$' -bench . -benchtime 2s -timeout 30m $(BENCHFLAGS) ./cgo/ ./mcmdp/; echo $$? > $(BUILD)/bench.rc; } \
	  | tee $(BUILD)/bench.txt
	@test "$$(cat $(BUILD)/bench.rc)" = 0
	@$(GO) run ./internal/benchtable < $(BUILD)/bench.txt

# The tools against DPDK: testpmd txonly into testpmd rxonly, mcm-send
# --burst 32 into testpmd rxonly and testpmd txonly into mcm-recv --burst 32,
# then the same one packet per call with mcm-send into mcm-recv beside
# them, 64 B packets, in MCM_BENCH_ROUNDS rounds (3: about seven and a half
# minutes; skipped without dpdk-testpmd).
bench-testpmd:
	$(GO) test -run '^$$' -bench '^BenchmarkTestpmd$$' -benchtime 1x -timeout 20m ./cmd/toolstest/

# libFuzzer harnesses of the engine (libmemif/fuzz/): the message decoder,
# whole handshakes as master and slave, and the data path against a peer
# lying in shared memory, built with clang under ASan+UBSan. `make fuzz`
# runs each for FUZZTIME seconds from the corpus kept in the repository
# (finds go to build/fuzz/work/, crashes to build/fuzz/), then the Go fuzz
# targets. `make fuzz-replay` (in make test) runs each corpus once.
FUZZ_CC    ?= clang
FUZZTIME   ?= 60
FUZZERS    := decode handshake ring
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BINS  := $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
# Whether FUZZ_CC can link a libFuzzer target (clang alone lacks the runtime).
FUZZ_OK = printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
	| $(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1

$(BUILD)/fuzz/fuzz_%: libmemif/fuzz/fuzz_%.c libmemif/fuzz/fuzz.h $(ENGINE) $(HEADERS)
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(ENGINE) -o $@

# Installs clang and its libFuzzer runtime when root; otherwise fails.
fuzz-deps:
	@if ! $(FUZZ_OK); then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing clang and libFuzzer (clang libclang-rt-dev)"; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null; \
	  fi; \
	  $(FUZZ_OK) || { echo "clang with libFuzzer missing: sudo apt-get install clang libclang-rt-dev"; exit 1; }; \
	fi

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@for f in $(FUZZERS); do \
	  mkdir -p $(BUILD)/fuzz/work/$$f; \
	  echo "fuzz_$$f: $(FUZZTIME)s"; \
	  $(BUILD)/fuzz/fuzz_$$f -max_total_time=$(FUZZTIME) -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/work/$$f libmemif/fuzz/corpus/$$f \
	    > $(BUILD)/fuzz/$$f.log 2>&1 \
	    || { tail -60 $(BUILD)/fuzz/$$f.log; exit 1; }; \
	  grep -E '^#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|stat::average_exec_per_sec' $(BUILD)/fuzz/$$f.log; \
	done
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMessage$$' -fuzztime $(FUZZTIME)s ./cgo/
	$(GO) test -run '^$$' -fuzz '^FuzzHostileHello$$' -fuzztime $(FUZZTIME)s ./cgo/

# Each harness over its corpus once, no fuzzing: seconds. Without clang it
# installs it when root, else skips, except under CI=true where it fails.
fuzz-replay:
	@if ! $(FUZZ_OK) && [ "$$(id -u)" != 0 ] && [ "$$CI" != true ]; then \
	  echo "fuzz-replay skipped: clang with libFuzzer missing (sudo apt-get install clang libclang-rt-dev)"; \
	else \
	  $(MAKE) --no-print-directory fuzz-deps $(FUZZ_BINS) || exit 1; \
	  for f in $(FUZZERS); do \
	    $(BUILD)/fuzz/fuzz_$$f libmemif/fuzz/corpus/$$f/* > $(BUILD)/fuzz/$$f-replay.log 2>&1 \
	      || { tail -60 $(BUILD)/fuzz/$$f-replay.log; exit 1; }; \
	    echo "fuzz_$$f: $$(ls libmemif/fuzz/corpus/$$f | wc -l) corpus inputs replayed"; \
	  done; \
	fi

# Statement coverage of the seam, the API and the tools' code, counting the
# tests of every package and the real tools' runs (built with -cover).
COVER := $(BUILD)/cover
cover:
	@rm -rf $(COVER) && mkdir -p $(COVER)/tools
	MCM_TOOLS_COVERDIR=$(abspath $(COVER)/tools) $(GO) test -count=1 \
	  -coverpkg=./cgo/,./mcmdp/,./internal/cli/ -coverprofile=$(COVER)/tests.out ./cgo/ ./mcmdp/ ./cmd/... ./internal/...
	$(GO) tool covdata textfmt -i=$(COVER)/tools -o $(COVER)/tools.out
	@awk 'FNR==1 { if (NR==1) print; next } { split($$0, f, " "); k = f[1] " " f[2]; if (!(k in c) || f[3] > c[k]) c[k] = f[3] } \
	  END { for (k in c) print k, c[k] }' $(COVER)/tests.out $(COVER)/tools.out > $(COVER)/all.out
	@$(GO) tool cover -func=$(COVER)/all.out > $(COVER)/func.txt
	@for pkg in cgo mcmdp internal/cli; do \
	  grep "^github.com/mcmgo/mcm/$$pkg/" $(COVER)/all.out > /dev/null || continue; \
	  (head -1 $(COVER)/all.out; grep "^github.com/mcmgo/mcm/$$pkg/[^/]*:" $(COVER)/all.out) > $(COVER)/$$(echo $$pkg | tr / _).out; \
	  printf '%-14s %s\n' $$pkg "$$($(GO) tool cover -func=$(COVER)/$$(echo $$pkg | tr / _).out | tail -1 | awk '{print $$3}')"; \
	done
	@echo "per function: $(COVER)/func.txt; HTML: go tool cover -html=$(COVER)/all.out"

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
