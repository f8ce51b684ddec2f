# The two commands a newcomer needs: `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DATA_DIR ?= ./duckmesh-data

# Seconds each fuzz target runs: `make test` gives each a short bounded run,
# `make fuzz FUZZ_SECONDS=600` a longer one.
TEST_FUZZ_SECONDS ?= 20
FUZZ_SECONDS ?= 120

.PHONY: setup configure build run test fuzz bench clean

setup:
	@scripts/setup

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja

configure: setup $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The reference ontology server serves the sample ontology on :8001 beside the
# service; if it cannot start, the service falls back to the same files bundled.
# A local trial: the service listens on 127.0.0.1 only and runs without
# authentication (it says so in its log and in /monitoring/health). Set
# RUN_AUTH=1 to require API keys or JWTs as in production (see the README).
RUN_AUTH ?=
run: build
	@$(BUILD_DIR)/duckmesh onto-serve --dir examples/ontology --port 8001 & onto=$$!; \
	trap "kill $$onto 2>/dev/null" EXIT INT TERM; \
	$(BUILD_DIR)/duckmesh serve --data-dir $(DATA_DIR) $(if $(RUN_AUTH),,--insecure-no-auth)

test: build
	scripts/test $(BUILD_DIR)
	FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) scripts/fuzz $(BUILD_DIR)-fuzz

# libFuzzer targets under AddressSanitizer and UBSan (fuzz/, scripts/fuzz).
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz $(BUILD_DIR)-fuzz

bench: build
	scripts/bench $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-fuzz
