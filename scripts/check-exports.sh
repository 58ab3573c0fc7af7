#!/usr/bin/env bash
# Checks the release library against include/billing.h: every declared function is exported,
# nothing but billing_* is exported, no Swift runtime library is needed at run time, and the
# shared libraries it needs are only libc's and the engine's three: libsqlite3, libsodium and
# libpq (the PostgreSQL client library, linked dynamically since the storage target holds the
# PostgreSQL connection, issue 18; SQLite users need it installed, never a server).
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
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p' | sort)
unexpected=$(echo "$needed" | grep -vE '^(libsqlite3\.so\.0|libsodium\.so\.[0-9]+|libpq\.so\.5|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libutil\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$' || true)
if [ -n "$unexpected" ]; then echo "the library needs unexpected shared libraries: $unexpected"; status=1; fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "libbilling.so.0" ]; then echo "SONAME is '$soname', expected libbilling.so.0"; status=1; fi
if [ $status -eq 0 ]; then echo "exports: $(echo "$exported" | wc -l) billing_* functions, all declared; SONAME $soname; no Swift runtime needed; needs $(echo $needed)"; fi
exit $status
