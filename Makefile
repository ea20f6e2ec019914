# Thin driver over CMake. `make demo` and `make test` install what is
# missing first (scripts/install-deps), so they work on a fresh Debian.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

.PHONY: all build deps deps-bench demo test bench install clean

all: build

deps:
	@scripts/install-deps test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

demo: deps build
	@bash scripts/demo.sh $(BUILD)

# Tests are independent (own temp dirs, ports and stores), so they run in
# parallel: the suite takes about half the time on two cores.
test: deps build
	cd $(BUILD) && ctest --output-on-failure --timeout 900 -j$(JOBS)

deps-bench:
	@scripts/install-deps bench

bench: deps-bench build
	@bash bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
