# The user-facing commands; CMake does the building.
#   make        build build/urbac (only the command: no tests, fuzzers or benchmarks)
#   make run    build, then serve the demo tenant over HTTP (SQLite store in run/)
#   make demo   a guided tour of the CLI on examples/contoso.yaml
#   make install PREFIX=/usr/local   the command, liburbac and liburbac-store, their
#               headers, pkg-config files and CMake package, the manual pages, bash
#               and zsh completion, the systemd unit (cmake --install)
#   make test   every test, again under ASan+UBSan, then each fuzzer for a while
#   make fuzz   every fuzzer for FUZZ_SECONDS (or FUZZ_RUNS executions), figures in bench/results/fuzz.md
#   make bench  the benchmark workload and urbac's figures (bench/results/core.md, http.md, writes.md, graph.md, scim.md)
#   make bench-peers  the same workload through CASL, Cedar and Casbin (bench/RESULTS.md)
# Each target installs the Debian packages it needs when they are missing: make,
# run, demo and install need only scripts/deps.sh's build list. Builds are quiet
# (errors and warnings only); V=1 shows every command.
BUILD ?= build
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
V ?= 0

ifeq ($(V),1)
QUIET =
BUILD_FLAGS = --verbose
else
QUIET = >/dev/null
BUILD_FLAGS =
endif
# no "Entering directory" lines from the makes CMake runs
MAKEFLAGS += --no-print-directory

.PHONY: all configure build run demo install test fuzz bench bench-peers release clean

all: build

# the product only (the tests and the benchmark tools are configured by their own
# targets): what tests/install/fresh_build.sh checks against the build list
# (the install prefix too: the systemd unit names the binary by its installed path)
configure:
	@cmake -S . -B $(BUILD) -DURBAC_TESTS=OFF -DURBAC_BENCH=OFF -DCMAKE_INSTALL_PREFIX=$(abspath $(PREFIX)) $(QUIET)

build:
	@scripts/deps.sh build
	@$(MAKE) configure
	@cmake --build $(BUILD) -j$(JOBS) --target urbac $(BUILD_FLAGS) $(QUIET)
	@echo "built $(BUILD)/urbac"

run: build
	@scripts/run.sh $(BUILD)/urbac

demo: build
	@scripts/demo.sh $(BUILD)/urbac examples/contoso.yaml

install:
	@scripts/deps.sh build
	@$(MAKE) configure
	@cmake --build $(BUILD) -j$(JOBS) $(BUILD_FLAGS) $(QUIET)
	@cmake --install $(BUILD) --prefix $(abspath $(PREFIX)) $(QUIET)
	@echo "installed urbac into $(PREFIX)"

test:
	@scripts/test.sh

# Each fuzzer (or those named in FUZZERS) for FUZZ_SECONDS (default 600), or
# until FUZZ_RUNS executions; the figures go to bench/results/fuzz.md.
FUZZ_SECONDS ?= $(if $(FUZZ_RUNS),86400,600)
fuzz:
	@scripts/deps.sh test
	@scripts/fuzz.sh --seconds $(FUZZ_SECONDS) $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS)) --report bench/results/fuzz.md $(FUZZERS)

release:
	@scripts/deps.sh bench
	@cmake -S . -B $(BUILD)-release -DCMAKE_BUILD_TYPE=Release -DURBAC_TESTS=OFF -DURBAC_BENCH=ON >/dev/null
	@cmake --build $(BUILD)-release -j$(JOBS) $(BUILD_FLAGS) $(QUIET)

bench: release
	@bench/run.sh $(BUILD)-release
	@bench/http/run.sh $(BUILD)-release
	@bench/writes/run.sh $(BUILD)-release
	@bench/graph/run.sh $(BUILD)-release
	@bench/scim/run.sh $(BUILD)-release

bench-peers: release
	@bench/peers/run.sh $(BUILD)-release

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz $(BUILD)-release
