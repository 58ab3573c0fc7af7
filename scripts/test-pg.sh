#!/usr/bin/env bash
# The PostgreSQL half of `make test` (issue 18), run by `make test-pg` against the throwaway
# cluster it started (scripts/pg-cluster.sh; the Makefile's trap stops it however this ends).
#
#   scripts/test-pg.sh URL            URL: the cluster's base URL (scripts/pg-cluster.sh url)
#
# Steps, each run even when an earlier one failed (the script fails if any did):
#   swift        the Swift PostgreSQL tests (swift test --filter Postgres), BILLING_TEST_POSTGRES_URL
# and, unless PG_SUITES=0 (the switch for an engine that cannot run them), the same suites and drivers as on
# SQLite, each database a fresh schema of the cluster's database (BILLING_TEST_DATABASE_URL):
#   python       the Python suite (tests about SQLite files by nature are skipped, with why)
#   c            the C tests (examples/c/test_*)
#   verify       the C demo's database, then `billingctl verify` on it: no breach
#   hammer       stress/hammer.py, short (2 processes x 3 threads, 10 s)
#   crash        stress/crash_test.py, short (8 rounds: SIGKILL mid-write, reopen, verify,
#                every reported commit present)
#   fault        stress/hammer.py --restart-server-after: the server restarted (immediate) during
#                a hammer run; calls in flight fail with a status and a reason, later calls
#                reconnect, nothing acknowledged is lost, verify is clean
# Ends with "N passed, M failed" over the steps.
set -uo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: scripts/test-pg.sh URL}
library=$(pwd)/dist/lib/libbilling.so
python=${PYTHON:-build/venv/bin/python}
passed=0
failed=0
failures=()

step() {
    local name=$1
    shift
    echo "== test-pg: $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "== test-pg: $name FAILED"
    fi
}

swift_tests() {
    BILLING_TEST_POSTGRES_URL="$url" swift test --filter Postgres 2>&1 | tail -n 40
    return "${PIPESTATUS[0]}"
}

python_suite() {
    BILLING_TEST_DATABASE_URL="$url" BILLING_LIBRARY="$library" \
        "$python" -m pytest -q -rsxX examples/python/tests 2>&1 | tail -n 80
    return "${PIPESTATUS[0]}"
}

c_suite() {
    local failed=0 t
    for t in ${C_TESTS:-build/test_*}; do
        [ -x "$t" ] || continue
        echo "== $t"
        BILLING_TEST_DATABASE_URL="$url" "$t" build || failed=1
    done
    return $failed
}

verify_demo() {
    # The demo's scenario into a fresh schema, then billing_verify through the CLI.
    local database="$url&options=-csearch_path%3Ddemo_$$"
    build/demo "$database" >/dev/null && dist/bin/billingctl --db "$database" verify
}

hammer() {
    BILLING_LIBRARY="$library" python3 stress/hammer.py --database-url "$url" \
        --processes 2 --threads 3 --seconds 10 --known-bugs
}

crash() {
    BILLING_LIBRARY="$library" python3 stress/crash_test.py --database-url "$url" --rounds 8 --known-bugs
}

fault() {
    BILLING_LIBRARY="$library" python3 stress/hammer.py --database-url "$url" \
        --processes 2 --threads 3 --seconds 14 --restart-server-after 5 --known-bugs
}

step swift swift_tests
if [ "${PG_SUITES:-1}" = 1 ]; then
    step python python_suite
    step c c_suite
    step verify verify_demo
    step hammer hammer
    step crash crash
    step fault fault
else
    echo "== test-pg: PG_SUITES=0: the Python and C suites, verify, hammer, crash and fault runs" \
         "on PostgreSQL are switched off (make test-pg runs them by default)"
fi
if [ "$failed" -gt 0 ]; then echo "test-pg: failed steps: ${failures[*]}"; fi
echo "test-pg: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
