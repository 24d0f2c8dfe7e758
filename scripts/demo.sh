#!/usr/bin/env bash
# The main job on a fresh machine: install aestore, then save and load a realistic experiment
# to a JSON file and to SQLite (the embedded default), printing a short summary.
# Extra arguments go to `aestore demo` (see `aestore demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -e . >/dev/null
exec python3 -m aestore demo "$@"
