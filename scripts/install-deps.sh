#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine, or names the command.
# Swift itself comes with the machine (/opt/swift); everything else is a Debian or PyPI package.
set -euo pipefail
packages=(libsqlite3-dev libsodium-dev sqlite3 gcc make binutils)
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
if ! python3 -c 'import pytest' 2>/dev/null; then
    echo "installing pytest"
    python3 -m pip install --quiet pytest || { echo "run: python3 -m pip install pytest" >&2; exit 1; }
fi
command -v swift >/dev/null || { echo "swift is not on PATH (expected /opt/swift/usr/bin)" >&2; exit 1; }
