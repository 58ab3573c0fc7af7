#!/usr/bin/env bash
# What a user of an installed libbilling gets: `make install` into a temporary prefix, then a
# C program built with pkg-config against it and run; and the platform wheel installed into
# a fresh venv and used with nothing but its bundled library.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-install: $*" >&2; exit 1; }

prefix=$tmp/prefix
make --no-print-directory -s install PREFIX="$prefix" >/dev/null
lib=$prefix/lib/libbilling.so
for link in libbilling.so libbilling.so.0; do
    [ -L "$prefix/lib/$link" ] || fail "$link is not a symbolic link"
done
[ -f "$prefix/include/billing.h" ] || fail "billing.h not installed"
if readelf -d "$lib" | grep -qE 'RPATH|RUNPATH'; then fail "the installed library has an rpath"; fi
if readelf -S "$lib" | grep -q '\.debug_'; then fail "the installed library is not stripped"; fi
scripts/check-exports.sh "$lib" include/billing.h >/dev/null

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion billing)" = "$(sed -n 's/^VERSION := //p' Makefile)" ] || fail "billing.pc has the wrong version"
# shellcheck disable=SC2046  # pkg-config's output is meant to be split
cc -std=c99 -Wall -Werror -o "$tmp/demo" examples/c/demo.c $(pkg-config --cflags --libs billing)
LD_LIBRARY_PATH=$prefix/lib "$tmp/demo" "$tmp/demo.sqlite" >/dev/null || fail "the demo built against the installed library failed"
env -u BILLING_DB "$prefix/bin/billingctl" verify --db "$tmp/demo.sqlite" --json >/dev/null || fail "the installed billingctl failed"
echo "test-install: make install + pkg-config + billingctl: ok"

make --no-print-directory -s wheel >/dev/null
wheel=$(ls -t dist/python/libbilling-*-py3-none-*.whl | head -n 1)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$wheel"
(cd "$tmp" && env -u BILLING_LIBRARY "$tmp/venv/bin/python" - <<'PY'
import billing, billing._native as native
with billing.Engine(":memory:") as engine:
    assert engine.config()["currency"] == "CNY"
loaded = native.library()._name
assert "/billing/_lib/" in loaded, f"loaded {loaded}, not the bundled library"
assert billing.__version__ == billing.version(), (billing.__version__, billing.version())
PY
) || fail "the wheel's bundled library did not load"
echo "test-install: wheel with bundled library ($(basename "$wheel")): ok"
