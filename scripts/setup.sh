#!/usr/bin/env bash
# Installs what crlmboard needs on a Debian machine with Python 3.11: the Debian packages
# named as arguments (the system libraries Qt needs, …), python3-venv when Python cannot make
# a virtual environment, and a virtual environment in .venv with the app — and its test
# tools, unless `--app` comes first (scripts/demo.sh: the app only, a much shorter install).
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again.  When another install
# or an automatic update holds apt's lock, it waits (up to CRLMBOARD_APT_WAIT seconds,
# default 900) instead of failing.  CRLMBOARD_VENV names another virtual environment folder;
# CRLMBOARD_SETUP_DRY_RUN=1 prints the venv and pip commands instead of running them (both
# used by tests/packaging/test_setup_script.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

extras="[test]"
if [ "${1:-}" = "--app" ]; then
  extras=""
  shift
fi
PYTHON=${PYTHON:-python3}
VENV=${CRLMBOARD_VENV:-.venv}
dry_run=${CRLMBOARD_SETUP_DRY_RUN:-}
retry=${CRLMBOARD_APT_RETRY_SECONDS:-10}

run() {
  if [ -n "$dry_run" ]; then
    echo "would run: $*"
  else
    "$@"
  fi
}

need_packages=()
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_packages+=("$pkg")
done
if [ ! -x "$VENV/bin/python" ] && ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  need_packages+=(python3-venv)  # Debian splits venv's ensurepip out of python3
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# apt-get, waiting while another program holds apt's lock.
apt_get() {
  local waited=0 limit=${CRLMBOARD_APT_WAIT:-900} output
  while true; do
    if output=$($SUDO env DEBIAN_FRONTEND=noninteractive apt-get \
      -o DPkg::Lock::Timeout=60 "$@" 2>&1); then
      return 0
    fi
    if ! grep -qiE "could not get lock|unable to acquire|is another process using it" \
      <<<"$output"; then
      echo "$output" >&2
      return 1
    fi
    if [ "$waited" -ge "$limit" ]; then
      echo "$output" >&2
      echo "apt is still busy after ${limit} s; try again later." >&2
      return 1
    fi
    echo "== apt is busy (another installation or an automatic update); waiting…"
    sleep "$retry"
    waited=$((waited + retry))
  done
}

if [ ${#need_packages[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_packages[*]}"
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${need_packages[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  run "$PYTHON" -m venv "$VENV"
fi
if [ -n "$extras" ]; then
  echo "== installing crlmboard and its test tools into $VENV"
else
  echo "== installing crlmboard into $VENV"
fi
run "$VENV/bin/python" -m pip install -q --upgrade pip
run "$VENV/bin/python" -m pip install -q -e ".${extras}"
