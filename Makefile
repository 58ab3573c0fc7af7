# libbilling — the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

VERSION := 0.2.0
SONAME  := libbilling.so.0
DIST    := dist
LIBDIR  := $(DIST)/lib
BUILD   := build
CFLAGS  := -std=c99 -Wall -Wextra -Werror -O2 -I$(DIST)/include
LDLIBS  := -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lbilling -lpthread

# Where `make install` puts things (DESTDIR is prepended, for staging and packaging).
PREFIX     ?= /usr/local
LIBDIR_INSTALL ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
PKGCONFIGDIR ?= $(LIBDIR_INSTALL)/pkgconfig

# Tests run the Python package installed into this venv (never the system's site-packages,
# which Debian marks externally managed); build and demo need no venv.
VENV   := $(BUILD)/venv
PYTHON := $(VENV)/bin/python

# lld, because gold keeps the hidden Swift symbols in .dynsym (as locals) under -export-dynamic.
# --disable-local-rpath: the library needs no RUNPATH ($$ORIGIN) of its own.
# Each function in its own section, and the hot paths' functions ($(HOT_FUNCTIONS), the login's
# first) placed first and together: a login runs on caches an argon2id pass emptied
# (scripts/hot_functions.py).
HOT_FUNCTIONS := scripts/hot-functions.txt
RELEASE_FLAGS := -c release --product billing --disable-local-rpath -Xswiftc -static-stdlib \
	-Xlinker -soname=$(SONAME) -Xlinker --version-script=$(abspath scripts/exports.map) \
	-Xlinker -z -Xlinker nodelete -Xswiftc -use-ld=lld \
	-Xswiftc -Xfrontend -Xswiftc -function-sections \
	-Xlinker --symbol-ordering-file=$(abspath $(HOT_FUNCTIONS)) -Xlinker --no-warn-symbol-ordering

.PHONY: all deps test-packages test-deps build demo test test-swift test-c test-python test-install test-stress test-fuzz test-docs test-portal test-pg portal stress fuzz bench bench-pg install wheel clean

all: build

deps:
	@scripts/install-deps.sh

# System packages only some tests need (a browser, a PostgreSQL server).
test-packages: deps
	@scripts/install-deps.sh --tests

# What only the tests need: pytest and the package, installed into $(VENV).
test-deps: $(VENV)/.ready
$(VENV)/.ready: examples/python/pyproject.toml examples/python/setup.py $(wildcard examples/python/billing/*.py) | deps
	@scripts/make-venv.sh $(VENV)
	@touch $@

# The release library as users link it: dist/lib/libbilling.so -> .so.0 -> .so.$(VERSION).
build: deps
	@# SwiftPM recompiles on changed sources, not on changed flags (objects built before
	@# -function-sections kept their layout), and relinks on changed objects, not on a changed
	@# ordering file: a build made with other flags is dropped, a link older than the list too.
	@bin="$$(swift build $(RELEASE_FLAGS) --show-bin-path)"; \
	if [ -n "$$bin" ] && [ -d "$$bin" ] && [ "$$(cat "$$bin/.release-flags" 2>/dev/null)" != '$(RELEASE_FLAGS)' ]; then \
		echo "release flags changed: rebuilding $$bin"; rm -rf "$$bin"; fi; \
	if [ -f "$$bin/libbilling.so" ] && [ $(HOT_FUNCTIONS) -nt "$$bin/libbilling.so" ]; then rm -f "$$bin/libbilling.so"; fi
	swift build $(RELEASE_FLAGS)
	@mkdir -p $(LIBDIR) $(DIST)/include
	@bin="$$(swift build $(RELEASE_FLAGS) --show-bin-path)"; echo '$(RELEASE_FLAGS)' > "$$bin/.release-flags"
	@# Copy then rename: a process that has the old library mapped keeps a valid file.
	cp -f "$$(swift build $(RELEASE_FLAGS) --show-bin-path)/libbilling.so" $(LIBDIR)/.libbilling.so.tmp
	mv -f $(LIBDIR)/.libbilling.so.tmp $(LIBDIR)/libbilling.so.$(VERSION)
	ln -sf libbilling.so.$(VERSION) $(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(LIBDIR)/libbilling.so
	cp -f include/billing.h $(DIST)/include/
	scripts/check-exports.sh $(LIBDIR)/libbilling.so include/billing.h
	@python3 scripts/hot_functions.py check $(LIBDIR)/libbilling.so
	@$(MAKE) --no-print-directory $(DIST)/bin/billingctl

$(BUILD)/%: examples/c/%.c examples/c/check.h examples/c/billing_test_support.h include/billing.h | build
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
# drivers, the replay of the fuzzing corpus, and the PostgreSQL backend against a throwaway cluster.
test: build test-swift test-c test-python test-install test-stress test-fuzz test-docs test-portal test-pg

test-swift:
	swift test 2>&1 | tail -n 40; exit $${PIPESTATUS[0]}

C_TESTS := $(patsubst examples/c/%.c,$(BUILD)/%,$(wildcard examples/c/test_*.c))
# PostgreSQL (issue 18) against a throwaway cluster of its own (scripts/pg-cluster.sh:
# build/pg, a private Unix socket, a non-root owner under root), started once; the trap stops
# it however the tests end. scripts/test-pg.sh runs the Swift PostgreSQL tests
# (Tests/BillingEngineTests/Postgres*.swift; they fail rather than skip here, since
# BILLING_TEST_POSTGRES_URL is always set) and (PG_SUITES=1, the default) the Python and C suites,
# billing_verify, the short hammer and crash drivers and the fault test (the server restarted
# during a hammer run) with every database a fresh schema of the cluster
# (BILLING_TEST_DATABASE_URL). PG_SUITES=0 runs only the Swift tests (the switch for an
# engine that cannot run the suites).
PG_SUITES ?= 1
test-pg: build test-deps test-packages $(C_TESTS) $(BUILD)/demo
	@trap 'scripts/pg-cluster.sh stop' EXIT; scripts/pg-cluster.sh start && \
	    PG_SUITES=$(PG_SUITES) PYTHON=$(PYTHON) C_TESTS="$(C_TESTS)" scripts/test-pg.sh "$$(scripts/pg-cluster.sh url)"

test-c: build $(C_TESTS)
	@# Every test program runs even if an earlier one fails; the target fails if any did.
	@failed=0; for t in $(C_TESTS); do echo "== $$t"; $$t $(BUILD) || failed=1; done; exit $$failed

# The installed package under test (run from the top directory, so that the source tree's
# billing/ is not the one imported).
test-python: build test-deps
	BILLING_LIBRARY=$(abspath $(LIBDIR)/libbilling.so) $(PYTHON) -m pytest -q examples/python/tests

# The web example (examples/portal): gunicorn with several pre-fork workers on one SQLite file
# (build/portal/portal.sqlite, demo data and a manual clock on first start), on 127.0.0.1,
# in the foreground. PORTAL_BIND, PORTAL_WORKERS, PORTAL_DB, PORTAL_DEMO=0 change it.
portal: build test-deps
	BILLING_LIBRARY=$(abspath $(LIBDIR)/libbilling.so) PORTAL_DB=$${PORTAL_DB:-$(abspath $(BUILD)/portal/portal.sqlite)} \
	    $(abspath $(VENV))/bin/gunicorn -c examples/portal/gunicorn.conf.py

# Its browser tests: headless Debian chromium through selenium against the portal started on a
# free port with several workers; screenshots of every page go to build/portal-screenshots/.
test-portal: build test-deps test-packages
	BILLING_LIBRARY=$(abspath $(LIBDIR)/libbilling.so) PORTAL_SCREENSHOTS=$(abspath $(BUILD)/portal-screenshots) \
	    $(PYTHON) -m pytest -q examples/portal/tests

# make install into a temporary prefix, then build and run a C program with pkg-config
# against it, and a bundled-library wheel in a fresh venv.
test-install: build test-deps
	scripts/test-install.sh

# Installs the stripped library with its SONAME links, the header, billing.pc and billingctl
# (whose RUNPATH $$ORIGIN/../lib finds the library when LIBDIR_INSTALL is PREFIX/lib).
install: build
	install -d $(DESTDIR)$(LIBDIR_INSTALL) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 -s $(DIST)/bin/billingctl $(DESTDIR)$(BINDIR)/
	install -m 0755 $(LIBDIR)/libbilling.so.$(VERSION) $(DESTDIR)$(LIBDIR_INSTALL)/
	strip --strip-unneeded $(DESTDIR)$(LIBDIR_INSTALL)/libbilling.so.$(VERSION)
	ln -sf libbilling.so.$(VERSION) $(DESTDIR)$(LIBDIR_INSTALL)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR_INSTALL)/libbilling.so
	install -m 0644 include/billing.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR_INSTALL)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
	    scripts/billing.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/billing.pc
	@echo "installed under $(DESTDIR)$(PREFIX); run ldconfig if $(LIBDIR_INSTALL) is a system library directory"

# A platform wheel of the Python package with the stripped library inside (dist/python/).
wheel: build test-deps
	rm -rf $(BUILD)/wheel && mkdir -p $(BUILD)/wheel $(DIST)/python
	cp -r examples/python/pyproject.toml examples/python/setup.py examples/python/README.md examples/python/billing $(BUILD)/wheel/
	rm -rf $(BUILD)/wheel/billing/__pycache__ && mkdir -p $(BUILD)/wheel/billing/_lib
	cp $(LIBDIR)/libbilling.so.$(VERSION) $(BUILD)/wheel/billing/_lib/libbilling.so.0
	strip --strip-unneeded $(BUILD)/wheel/billing/_lib/libbilling.so.0
	$(PYTHON) -m pip wheel --quiet --no-deps -w $(DIST)/python $(BUILD)/wheel

# The reason and event catalogue (docs/catalogue.*) must match the sources, with a meaning for
# each; `python3 scripts/catalogue.py` regenerates it. Then the checker's own tests.
test-docs:
	python3 scripts/catalogue.py --check
	python3 -m unittest discover -s scripts/tests

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
# Each bench program appends its scenarios to build/bench/summary.tsv (scenario, library
# rate, baseline rate, ratio), which a script can compare with the targets in the README.
bench: build
	@mkdir -p $(BUILD)/bench && rm -f $(BUILD)/bench/summary.tsv
	BENCH_SUMMARY=$(abspath $(BUILD))/bench/summary.tsv \
		$(MAKE) -C bench run LIBDIR=$(abspath $(LIBDIR)) INCDIR=$(abspath $(DIST)/include)
	@echo; echo "summary: $(BUILD)/bench/summary.tsv"; column -t -s "$$(printf '\t')" $(BUILD)/bench/summary.tsv

# The library on PostgreSQL against hand-written libpq in the same run, and the 1/2/4/8-process
# throughput run (with SQLite for contrast), on a throwaway cluster started here and stopped
# however the run ends (never part of `make test`). Small counts: about two minutes.
# PG_ARGS="WRITES OPENS BUYS SECONDS [LIST_ORDERS LIST_READS USAGE_RECORDS [LOGINS SCHEDULER_RUNS [SCHEDULER_DUE SCHEDULER_PASSES
#          [MIXED_OPS PROCESSES]]]]]"
# (bench/bench_pg.c); summary in build/bench/summary-pg.tsv.
PG_ARGS ?= 500 40 200 5
bench-pg: build
	@mkdir -p $(BUILD)/bench && rm -f $(BUILD)/bench/summary-pg.tsv
	@trap 'scripts/pg-cluster.sh stop' EXIT; scripts/pg-cluster.sh start && \
	    BENCH_SUMMARY=$(abspath $(BUILD))/bench/summary-pg.tsv BILLING_BENCH_POSTGRES_URL="$$(scripts/pg-cluster.sh url)" \
	    $(MAKE) -C bench pg PG_ARGS="$(PG_ARGS)" LIBDIR=$(abspath $(LIBDIR)) INCDIR=$(abspath $(DIST)/include) && \
	    { echo; echo "summary: $(BUILD)/bench/summary-pg.tsv"; column -t -s "$$(printf '\t')" $(BUILD)/bench/summary-pg.tsv; }

clean:
	rm -rf $(DIST) $(BUILD) .build
