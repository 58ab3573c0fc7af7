#!/usr/bin/env bash
# Installs the system packages that building, the demo and the tests need on a fresh Debian
# machine, or names the command. Swift itself comes with the machine (/opt/swift). Python
# packages for the tests (pytest) go into a venv under build/ (scripts/make-venv.sh), never
# into the system's Python, which Debian marks externally managed.
set -euo pipefail
# What building and the demo need. libpq-dev: the PostgreSQL client library the engine links
# (issue 18).
packages=(libsqlite3-dev libsodium-dev sqlite3 gcc make binutils pkg-config python3 python3-venv libpq-dev)
# With --tests, also what only some tests need, so that building never requires a browser or a
# database server: chromium, chromium-driver and a CJK font for the portal's browser tests
# (examples/portal, headless with Debian's driver: nothing is downloaded at test time), and
# postgresql for the server binaries (initdb, pg_ctl) of the throwaway test cluster
# (scripts/pg-cluster.sh; the cluster Debian may create and start on install is not used).
if [ "${1:-}" = "--tests" ]; then
    packages+=(chromium chromium-driver fonts-wqy-microhei postgresql)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "missing system packages; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi
command -v swift >/dev/null || { echo "swift is not on PATH (expected /opt/swift/usr/bin)" >&2; exit 1; }
