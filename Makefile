# The two set-up commands (README): `make run` and `make test`. Everything else is a helper.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: deps build run test unit-test system-test bench format clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@mkdir -p cuttle-data
	$(BUILD_DIR)/src/apps/cuttle-server run

# Unit tests (SQLite and PostgreSQL) and system tests, against one throwaway PostgreSQL.
test: build
	@scripts/with-postgres.sh scripts/run-tests.sh $(BUILD_DIR)

bench: build
	@bench/run.sh $(BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
