# Entry points for people and CI. Everything builds in ./build.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build run test bench fuzz format clean

deps:
	bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Starts the server on embedded SQLite (./data/crashctl.db), listening on :9190.
run: build
	$(BUILD)/cmd/crashctl serve

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

format:
	find cmd core ingest grouping store kube exporter rest alertmanager sdk tests bench \
	  \( -name '*.h' -o -name '*.cc' \) -not -path '*/node_modules/*' | xargs clang-format -i

# Micro benchmarks and the load generator; writes bench/RESULTS.md.
bench: build
	BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf $(BUILD)
