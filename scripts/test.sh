#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, lint, types, import contracts, tests
# (a real PostgreSQL server included), all headless.  Fails loudly on any missing step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

QT_LIBS=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0)
# desktop-file-utils and appstream: tests/packaging validates the Linux desktop files with them
bash scripts/setup.sh postgresql poppler-utils fonts-dejavu-core desktop-file-utils appstream \
  "${QT_LIBS[@]}"

export QT_QPA_PLATFORM=offscreen
export CRLMBOARD_LOG_DIR="${CRLMBOARD_LOG_DIR:-$(mktemp -d)}"

echo "== ruff"
.venv/bin/ruff check crlmboard tests
echo "== mypy"
.venv/bin/mypy crlmboard
echo "== import contracts"
.venv/bin/lint-imports

echo "== PostgreSQL"
source scripts/postgres.sh
start_postgres

echo "== pytest"
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
stop_postgres
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
