#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, lint, types, import contracts, tests
# (a real PostgreSQL server included), all headless.  Fails loudly on any missing step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# How long each step took, printed at the end (and the slowest tests, by pytest).
PHASES=()
phase_started=$SECONDS
phase_name="set-up"
phase() {
  PHASES+=("$phase_name: $((SECONDS - phase_started)) s")
  phase_name=$1
  phase_started=$SECONDS
  echo "== $1"
}
report_phases() {
  PHASES+=("$phase_name: $((SECONDS - phase_started)) s")
  echo "time per step:"
  printf '  %s\n' "${PHASES[@]}"
}
trap report_phases EXIT

QT_LIBS=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0)
# desktop-file-utils and appstream: tests/packaging validates the Linux desktop files with them
# locales: tests/reliability/test_locales.py compiles tr_TR.UTF-8 from its source (localedef)
bash scripts/setup.sh postgresql poppler-utils fonts-dejavu-core desktop-file-utils appstream locales \
  "${QT_LIBS[@]}"

# the conformance tests check against published FHIR packages, fetched with npm into a cache
command -v npm >/dev/null || bash scripts/setup.sh npm
phase "FHIR packages (mCODE 4.0.0, core extensions, R4 definitions)"
.venv/bin/python -m tests.fhirconformance.packages

export QT_QPA_PLATFORM=offscreen
export CRLMBOARD_LOG_DIR="${CRLMBOARD_LOG_DIR:-$(mktemp -d)}"

phase "ruff"
.venv/bin/ruff check crlmboard tests bench
.venv/bin/ruff format --check crlmboard tests bench scripts
phase "mypy"
.venv/bin/mypy crlmboard
phase "import contracts"
.venv/bin/lint-imports

# The tests run in parallel (pytest-xdist), one worker per core unless
# CRLMBOARD_TEST_WORKERS says otherwise, each with a PostgreSQL server of its own.
WORKERS=${CRLMBOARD_TEST_WORKERS:-$(nproc)}
phase "PostgreSQL ($WORKERS servers)"
source scripts/postgres.sh
start_postgres "$WORKERS"

phase "pytest ($WORKERS workers)"
summary_file=$(mktemp)
set +e
.venv/bin/python -m pytest -q -n "$WORKERS" --dist worksteal --durations=30 "$@" 2>&1 \
  | tee "$summary_file"
status=${PIPESTATUS[0]}
set -e
stop_postgres
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
if [ "$status" != 0 ]; then
  exit "$status"
fi

phase "installable builds: wheel, frozen app, .deb, each smoke-tested outside the checkout"
if [ "$(id -u)" = 0 ]; then
  bash packaging/build.sh --install-deb
else
  bash packaging/build.sh  # installing the .deb needs root
fi
echo "== done; pytest said:"
tail -n 1 "$summary_file"
