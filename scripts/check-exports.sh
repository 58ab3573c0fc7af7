#!/usr/bin/env bash
# Checks the release library against include/billing.h: every declared function is exported,
# nothing but billing_* is exported, and no Swift runtime library is needed at run time.
# (The compiler already checks each Swift export's signature against the header through
# `@c @implementation`; this catches declarations with no implementation.)
set -euo pipefail
lib=${1:-dist/lib/libbilling.so}
header=${2:-include/billing.h}
declared=$(grep -oE '\bbilling_[a-z0-9_]+[[:space:]]*\(' "$header" | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" {print $3}' | sort -u)
status=0
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
extra=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^billing_' || true)
undeclared=$(comm -13 <(echo "$declared") <(echo "$exported"))
if [ -n "$missing" ]; then echo "declared in $header but not exported: $missing"; status=1; fi
if [ -n "$extra" ]; then echo "exported but not billing_*: $extra"; status=1; fi
if [ -n "$undeclared" ]; then echo "exported but not declared in $header: $undeclared"; status=1; fi
if ldd "$lib" | grep -iE 'swift|Foundation|dispatch' ; then echo "the library needs Swift runtime libraries"; status=1; fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "libbilling.so.0" ]; then echo "SONAME is '$soname', expected libbilling.so.0"; status=1; fi
if [ $status -eq 0 ]; then echo "exports: $(echo "$exported" | wc -l) billing_* functions, all declared; SONAME $soname; no Swift runtime needed"; fi
exit $status
