#!/usr/bin/env bash
# The project's test command: install what's needed, lint, type-check, and run the test
# suite on SQLite, MariaDB and PostgreSQL (the tests start throwaway database servers).
# Arguments are passed to pytest, e.g. ./scripts/test.sh -x -k sqlite
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}

step() {
    printf '\n==> %s\n' "$*"
}

step "Database servers (scripts/install_servers.sh)"
./scripts/install_servers.sh

step "Install aestore with the dev extra"
"$python" -m pip install -q --root-user-action=ignore -e '.[dev]'

step "ruff check"
"$python" -m ruff check aestore tests benchmarks

step "ruff format --check"
if ! "$python" -m ruff format --check aestore tests benchmarks; then
    echo "ERROR: the files above are not ruff-formatted (run: ruff format aestore tests benchmarks)" >&2
    exit 1
fi

step "mypy aestore"
"$python" -m mypy aestore

step "pytest $*"
# A database server that can't be started fails the tests instead of skipping them.
export AESTORE_REQUIRE_SERVERS=1
status=0
"$python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "ERROR: pytest collected no tests (exit code 5)" >&2
    exit 1
fi
exit "$status"
