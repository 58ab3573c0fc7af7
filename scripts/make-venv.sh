#!/usr/bin/env bash
# Makes the venv the tests run in: pytest from PyPI and the Python package installed from
# examples/python (as a user would install it), so the suite tests the installed package.
# Works with Debian's python3 (python3-venv, from install-deps.sh) and with any other.
set -euo pipefail
venv=${1:?usage: make-venv.sh VENV_DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { rm -rf "$venv"; echo "python3 -m venv failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
fi
# flask, gunicorn and selenium: the web example (examples/portal) and its browser tests.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest mypy flask gunicorn selenium
# Not editable: the tests must see what `pip install` gives a user.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$top/examples/python"
