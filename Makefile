# Entry points for people and CI. Everything builds in ./build.
BUILD ?= build
JOBS ?= $(shell nproc)
# Test processes mostly wait on child processes and sockets, so the suites
# run twice as many at once as there are cores (2 cores: normal suite 35 s
# instead of 62, ASan+UBSan 86 s instead of 112).
TEST_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))
CMAKE_FLAGS ?=

# Sanitizer and fuzz builds live in their own directories.
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
UBSAN_SUPP := $(CURDIR)/tests/fuzz/ubsan.supp
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(UBSAN_SUPP)
# Under TSan each civetweb worker is slow to start;
# 64 keep `crashctl serve` inside the fixtures' 20 s readiness limit.
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/fuzz/tsan.supp \
  CRASHCTL_SERVER_MAX_CONNECTIONS=64

# `make image` / `make deb` (docs/deployment.md): the tag (default
# crashctl:<version>) and the base of the image's build stage (default
# docker.io/library/debian:bookworm-slim; without registry access
# `make image-base` and IMAGE_BASE=localhost/crashctl-base:bookworm).
IMAGE ?=
IMAGE_BASE ?=

.PHONY: deps build run test test-suite test-asan test-tsan fuzz fuzz-build \
  fuzz-smoke bench bench-postgres bench-trace format clean image image-base deb

deps:
	bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Builds just the binary and starts the server on embedded SQLite
# (./data/crashctl.db), listening on :9190.
run: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target crashctl
	$(BUILD)/cmd/crashctl serve

# The normal suite, then the whole suite under ASan+UBSan, the ingest
# pipeline under TSan, then a short run of every fuzzer. Stage times on
# 2 cores: tests/fuzz/README.md.
test:
	$(MAKE) test-suite
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) fuzz-smoke

test-suite: build
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS) --timeout 300

# The whole suite again, built with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer. Tests that run programs crashing on purpose set
# their own ASAN_OPTIONS (tests/CMakeLists.txt: CRASHCTL_CRASH_TEST_ENV).
# Built with clang (installed for the fuzzers anyway): at -O0 with both
# sanitizers it compiles this tree in 3 min where gcc takes about 4.5, and
# the programs the SDK and supervisor tests crash are then clang-built too.
# The SDK install test (label sdk) runs in the normal suite only: under the
# sanitizers it must build an uninstrumented SDK of its own for the consumer
# (86 s of the stage in CI), and the sanitizers see nothing of it. The
# replica chaos tests (label chaos: 30,000 events through three servers on
# PostgreSQL, 42 s in the normal stage) are load, not new lines: the
# PostgreSQL store and integration tests cover the same code here.
test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=CheckO0 \
	  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
	  -DCRASHCTL_SANITIZE=address,undefined -DCRASHCTL_BUILD_BENCH=OFF \
	  $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j $(TEST_JOBS) \
	  --timeout 600 -LE 'sdk|chaos'

# The ingest pipeline and its Completion, the metric series cache and the
# ingest integration tests under TSan.
test-tsan:
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Check \
	  -DCRASHCTL_SANITIZE=thread -DCRASHCTL_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target crashctl \
	  ingest_pipeline_test exporter_test integration_ingest_test
	cd $(TSAN_BUILD) && $(TSAN_ENV) ctest --output-on-failure -j $(JOBS) \
	  --timeout 600 -R 'Pipeline|Completion|SeriesCache|IngestTest'

# libFuzzer targets (clang): tests/fuzz/, seed corpora in tests/fuzz/corpus/.
fuzz-build:
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Check \
	  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DCRASHCTL_FUZZ=ON \
	  -DCRASHCTL_BUILD_TESTS=OFF -DCRASHCTL_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

# Each fuzzer for FUZZ_SECONDS on a temporary copy of its corpus.
fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

format:
	find alertmanager bench cmd core crashreport exporter grouping http ingest kube \
	  metrics model monitors releases rest scrub sdk search store supervisor \
	  tests tracing util \
	  \( -name '*.h' -o -name '*.cc' \) -not -path '*/node_modules/*' | xargs clang-format -i

# The OCI image of the binary `make build` makes (only the crashctl target
# is brought up to date; nothing is compiled again): deploy/container/.
image: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target crashctl
	IMAGE_TAG=$(IMAGE) IMAGE_BASE=$(IMAGE_BASE) \
	  bash deploy/container/build.sh --binary $(BUILD)/cmd/crashctl

# A Debian bookworm base image from Debian's packages (mmdebstrap), for
# machines that cannot pull debian:bookworm-slim.
image-base:
	bash deploy/container/base.sh --tarball $(BUILD)/image-base/bookworm.tar

# The Debian package, $(BUILD)/crashctl_<version>-1_<arch>.deb
# (cmake/packaging.cmake).
deb: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target crashctl
	cd $(BUILD) && cpack -G DEB

# Micro benchmarks and the load generator; writes bench/RESULTS.md.
bench: build
	BUILD=$(BUILD) bash bench/run.sh

# The postgres driver beside SQLite, one and two replicas, on a private
# PostgreSQL server (bench/postgres.sh): writes bench/POSTGRES.md, which
# `make bench` (which runs it too) copies into RESULTS.md.
bench-postgres: build
	BUILD=$(BUILD) bash bench/postgres.sh

# Overhead of `crashctl run`'s ptrace tracer (paired runs against --no-trace):
# writes bench/TRACING.md, which `make bench` copies into RESULTS.md.
bench-trace: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target crashctl
	BUILD=$(BUILD) python3 bench/trace_overhead.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
