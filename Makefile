# ospay developer entry points; see docs/development.md.
#   make test            deps + build + every Criterion test (ctest)
#   make asan            the same tests built with ASan + UBSan (in $(BUILD_ASAN))
#   make lint            buf lint (proto/) + clang-format check
#   make run | demo | bench | bench-quick | clean | format
# Overridable: BUILD, BUILD_ASAN, BUILD_TYPE, JOBS, CMAKE_ARGS, CTEST_ARGS.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
# --no-tests=error: a build that registers no tests is a failure, not a pass.
CTEST_ARGS ?= --output-on-failure -j2 --timeout 600 --no-tests=error

# Our own C sources (bench/ may not exist yet).
FMT_FILES = $(shell find src tests bench fuzz -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)

# CMake's generated Makefiles run their own make; keep this Makefile's command-line
# variables (BUILD=...) and jobserver out of it.
SUBMAKE_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL

.PHONY: all deps build test asan asan-build fuzz lint format run demo bench bench-quick clean distclean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) --log-level=WARNING $(CMAKE_ARGS)
	@$(SUBMAKE_ENV) cmake --build $(BUILD) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD) $(CTEST_ARGS)

asan-build: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DOSPAY_SANITIZE=ON \
		--log-level=WARNING $(CMAKE_ARGS)
	@$(SUBMAKE_ENV) cmake --build $(BUILD_ASAN) -j$(JOBS)

# Every sanitizer report (test processes, Criterion's forked workers, the ospayd
# children) goes to a file under $(SAN_LOGS): Criterion does not fail a test whose
# worker reports a leak at exit, so any file there fails the run.
SAN_LOGS = $(abspath $(BUILD_ASAN))/sanitizer-logs
asan: asan-build
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$(SAN_LOGS)/asan$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$(SAN_LOGS)/ubsan$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}" \
		ctest --test-dir $(BUILD_ASAN) $(CTEST_ARGS)
	@# LSan's "Running thread ... was not suspended" note (from forked children) is not a report.
	@bad=$$(grep -lE 'ERROR: |SUMMARY: |runtime error' $(SAN_LOGS)/* 2>/dev/null || true); \
	if [[ -n $$bad ]]; then echo "sanitizer reports:"; cat $$bad; exit 1; \
	else echo "sanitizers: no reports"; fi

# libFuzzer targets (fuzz/*.c), each run FUZZ_SECONDS on a scratch corpus.
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 20
fuzz:
	@scripts/deps.sh fuzz
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOSPAY_FUZZ=ON \
		--log-level=WARNING $(CMAKE_ARGS)
	@$(SUBMAKE_ENV) cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzzers
	@for f in $(BUILD_FUZZ)/fuzz_*; do \
		[[ -x $$f ]] || continue; \
		corpus=$(BUILD_FUZZ)/corpus/$$(basename $$f); mkdir -p $$corpus; \
		echo "fuzz: $$(basename $$f) for $(FUZZ_SECONDS)s"; \
		seeds=fuzz/seeds/$$(basename $$f); [[ -d $$seeds ]] || seeds=; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 $$corpus $$seeds \
			2>$(BUILD_FUZZ)/$$(basename $$f).log || { tail -50 $(BUILD_FUZZ)/$$(basename $$f).log; exit 1; }; \
		grep -E '^stat::number_of_executed_units' $(BUILD_FUZZ)/$$(basename $$f).log; \
	done

lint: deps
	@echo "lint: buf lint (proto/, buf.yaml)"
	@scripts/buf-lint.sh
	@echo "lint: clang-format --dry-run -Werror ($(words $(FMT_FILES)) files in src/ tests/ bench/)"
	@$(if $(FMT_FILES),clang-format --dry-run -Werror $(FMT_FILES),true)

# Rewrites the C sources in place with .clang-format.
format: deps
	@$(if $(FMT_FILES),clang-format -i $(FMT_FILES),true)

run: build
	OSPAY_BUILD_DIR=$(BUILD) bash scripts/run.sh

# Against a running `make run` (another terminal): the story of SPEC 4, step by step.
demo: build
	@scripts/deps.sh demo
	OSPAY_BUILD_DIR=$(BUILD) bash scripts/demo.sh

ifneq ($(wildcard bench/run.sh),)
bench: build
	OSPAY_BUILD_DIR=$(BUILD) bash bench/run.sh
# The same suite with short runs (2 s per figure and reference, 100,000 orders for List).
bench-quick: build
	OSPAY_BUILD_DIR=$(BUILD) BENCH_QUICK=1 bash bench/run.sh
else
bench bench-quick:
	@echo "make $@: bench/run.sh does not exist yet" >&2; exit 1
endif

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

# Also drops node_modules/ (buf); `make lint` reinstalls it with npm ci.
distclean: clean
	rm -rf node_modules
