# Thin driver over CMake. `make demo` and `make test` install what is
# missing first (scripts/install-deps), so they work on a fresh Debian.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

# Sanitizers and fuzzing (tests/fuzz/):
#   make test SANITIZE=address,undefined  the suite in build-san: the collector,
#       the tool and the tests instrumented, the preloaded modules UBSan only
#   make test-tsan       the collector's thread stress test under TSan (build-tsan)
#   make fuzz SECONDS=N  every libFuzzer harness N seconds (default 60), one at
#       a time, in build-fuzz (clang); FUZZERS="http1 h2" picks some
SANITIZE ?=
ifneq ($(SANITIZE),)
BUILD = build-san
CMAKE_FLAGS += -DLLMOPS_SANITIZE=$(SANITIZE)
# configure every time: the cache must follow SANITIZE
.PHONY: $(BUILD)/CMakeCache.txt
endif
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
SECONDS ?= 60
FUZZERS ?=

.PHONY: all build deps node-deps deps-bench deps-fuzz demo test bench install clean test-tsan fuzz

all: build

deps:
	@scripts/install-deps test

node-deps: deps
	@scripts/node-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

demo: deps build
	@bash scripts/demo.sh $(BUILD)

# Tests are independent (own temp dirs, ports and stores), so they run in
# parallel: the suite takes about half the time on two cores.
test: deps node-deps build
	cd $(BUILD) && ctest --output-on-failure --timeout 900 -j$(JOBS)

test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMOPS_TSAN=ON
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target test_writer_tsan
	cd $(TSAN_BUILD) && ctest -L tsan --output-on-failure

fuzz: deps-fuzz
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	    -DLLMOPS_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all
	bash tests/fuzz/run_fuzz.sh $(FUZZ_BUILD) $(SECONDS) $(FUZZERS)

deps-bench:
	@scripts/install-deps bench

deps-fuzz:
	@scripts/install-deps fuzz

bench: deps-bench build
	@bash bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
