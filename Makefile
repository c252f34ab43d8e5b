# The user-facing commands; CMake does the building.
#   make        build build/urbac
#   make run    build, then serve the demo tenant over HTTP (SQLite store in run/)
#   make demo   a guided tour of the CLI on examples/contoso.yaml
#   make test   every test, again under ASan+UBSan, then each fuzzer for a while
#   make fuzz   every fuzzer for FUZZ_SECONDS (or FUZZ_RUNS executions), figures in bench/results/fuzz.md
#   make bench  the benchmark workload and urbac's figures (bench/results/core.md)
#   make bench-peers  the same workload through CASL, Cedar and Casbin (bench/RESULTS.md)
# Each target installs the Debian packages it needs when they are missing.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all build run demo test fuzz bench bench-peers release clean

all: build

build:
	@scripts/deps.sh build
	@cmake -S . -B $(BUILD) -DURBAC_TESTS=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	@scripts/run.sh $(BUILD)/urbac

demo: build
	@scripts/demo.sh $(BUILD)/urbac examples/contoso.yaml

test:
	@scripts/test.sh

# Each fuzzer for FUZZ_SECONDS (default 600), or until FUZZ_RUNS executions;
# the figures go to bench/results/fuzz.md.
FUZZ_SECONDS ?= 600
fuzz:
	@scripts/deps.sh test
	@scripts/fuzz.sh --seconds $(FUZZ_SECONDS) $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS)) --report bench/results/fuzz.md

release:
	@scripts/deps.sh bench
	@cmake -S . -B $(BUILD)-release -DCMAKE_BUILD_TYPE=Release -DURBAC_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)-release -j$(JOBS)

bench: release
	@bench/run.sh $(BUILD)-release
	@bench/http/run.sh $(BUILD)-release

bench-peers: release
	@bench/peers/run.sh $(BUILD)-release

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz $(BUILD)-release
