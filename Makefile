# libbilling — the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

VERSION := 0.1.0
SONAME  := libbilling.so.0
DIST    := dist
LIBDIR  := $(DIST)/lib
BUILD   := build
CFLAGS  := -std=c99 -Wall -Wextra -Werror -O2 -I$(DIST)/include
LDLIBS  := -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lbilling -lpthread

# lld, because gold keeps the hidden Swift symbols in .dynsym (as locals) under -export-dynamic.
RELEASE_FLAGS := -c release --product billing -Xswiftc -static-stdlib \
	-Xlinker -soname=$(SONAME) -Xlinker --version-script=$(abspath scripts/exports.map) \
	-Xlinker -z -Xlinker nodelete -Xswiftc -use-ld=lld

.PHONY: all deps build demo test test-swift test-c test-python test-stress test-fuzz stress fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh

# The release library as users link it: dist/lib/libbilling.so -> .so.0 -> .so.$(VERSION).
build: deps
	swift build $(RELEASE_FLAGS)
	@mkdir -p $(LIBDIR) $(DIST)/include
	@# Copy then rename: a process that has the old library mapped keeps a valid file.
	cp -f "$$(swift build $(RELEASE_FLAGS) --show-bin-path)/libbilling.so" $(LIBDIR)/.libbilling.so.tmp
	mv -f $(LIBDIR)/.libbilling.so.tmp $(LIBDIR)/libbilling.so.$(VERSION)
	ln -sf libbilling.so.$(VERSION) $(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(LIBDIR)/libbilling.so
	cp -f include/billing.h $(DIST)/include/
	scripts/check-exports.sh $(LIBDIR)/libbilling.so include/billing.h
	@$(MAKE) --no-print-directory $(DIST)/bin/billingctl

$(BUILD)/%: examples/c/%.c examples/c/check.h include/billing.h | build
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

# The operator CLI: a plain client of the public header and the release library. Its RUNPATH
# $ORIGIN/../lib finds dist/lib in the tree and PREFIX/lib beside PREFIX/bin when installed.
$(DIST)/bin/billingctl: tools/billingctl.c include/billing.h $(LIBDIR)/libbilling.so.$(VERSION)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tools/billingctl.c -L$(LIBDIR) -Wl,-rpath,'$$ORIGIN/../lib' -lbilling

# Builds the release library and runs the C and Python demos on an embedded SQLite file.
demo: build $(BUILD)/demo
	@rm -f $(BUILD)/demo.sqlite*
	$(BUILD)/demo $(BUILD)/demo.sqlite
	BILLING_LIBRARY=$(abspath $(LIBDIR)/libbilling.so) python3 examples/python/demo.py $(BUILD)/demo-python.sqlite

# Every test: Swift (engine), C (ABI as linked), Python (ctypes package), the short stress
# drivers, and the replay of the fuzzing corpus.
test: build test-swift test-c test-python test-stress test-fuzz

test-swift:
	swift test 2>&1 | tail -n 40; exit $${PIPESTATUS[0]}

C_TESTS := $(patsubst examples/c/%.c,$(BUILD)/%,$(wildcard examples/c/test_*.c))
test-c: build $(C_TESTS)
	@# Every test program runs even if an earlier one fails; the target fails if any did.
	@failed=0; for t in $(C_TESTS); do echo "== $$t"; $$t $(BUILD) || failed=1; done; exit $$failed

test-python: build
	cd examples/python && BILLING_LIBRARY=$(abspath $(LIBDIR)/libbilling.so) python3 -m pytest -q tests

# Crash consistency (SIGKILL at random points) and the concurrency hammer, short versions.
test-stress: build
	$(MAKE) -C stress test BILLING_LIBRARY=$(abspath $(LIBDIR)/libbilling.so)

# The long versions: hundreds of crash rounds and a three-minute hammer (about 13 minutes).
stress: build
	$(MAKE) -C stress stress BILLING_LIBRARY=$(abspath $(LIBDIR)/libbilling.so)

# Replays the committed fuzzing corpus and regressions against the release library (seconds).
test-fuzz: build
	$(MAKE) -C fuzz regress

# Fuzzes every JSON function with a coverage-instrumented library for FUZZ_SECONDS per
# target (default 120); finds go to fuzz/build/artifacts/, new inputs to fuzz/build/work/.
fuzz: build
	$(MAKE) -C fuzz build run

# Benchmarks: ratios against raw SQLite measured in the same run (never a test).
bench: build
	$(MAKE) -C bench run LIBDIR=$(abspath $(LIBDIR)) INCDIR=$(abspath $(DIST)/include)

clean:
	rm -rf $(DIST) $(BUILD) .build
