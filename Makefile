# The two set-up commands (README): `make run` and `make test`. Everything else is a helper.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: deps web build run test unit-test system-test bench fuzz format clean cluster cluster-stop chaos

deps:
	@scripts/install-deps.sh

build: deps web
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The web portal into web/dist (served at /app; `npm ci` only when the lockfile changed).
web: deps
	@scripts/build-web.sh

run: build
	@mkdir -p cuttle-data
	$(BUILD_DIR)/src/apps/cuttle-server run

# Unit tests (SQLite and PostgreSQL) and system tests, against one throwaway PostgreSQL.
test: build
	@scripts/with-postgres.sh scripts/run-tests.sh $(BUILD_DIR)

# Three nodes on a throwaway PostgreSQL behind HAProxy on 127.0.0.1:8080 (scripts/cluster.sh).
cluster: build
	@scripts/cluster.sh start $(BUILD_DIR)

cluster-stop:
	@scripts/cluster.sh stop

# The long chaos test: `make chaos DURATION=600` (seconds; the short form runs in `make test`).
DURATION ?= 600
chaos: build
	@scripts/with-postgres.sh env CHAOS_DURATION=$(DURATION) CUTTLE_SERVER_BIN=$(CURDIR)/$(BUILD_DIR)/src/apps/cuttle-server \
	  node --test --test-timeout=$$(( ($(DURATION) + 300) * 1000 )) tests/system/chaos.test.mjs

bench: build
	@bench/run.sh $(BUILD_DIR)

# Coverage-guided fuzzing (clang-16, libFuzzer, ASan + UBSan) into build-fuzz/: each target in
# tests/fuzz/ for FUZZ_SECONDS; `make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="json_body url"`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	@JOBS=$(JOBS) scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
