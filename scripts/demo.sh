#!/usr/bin/env bash
# Installs crlmboard (the app only, not its test tools) into .venv and opens the app on a
# fresh demo database.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --app libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 \
  libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
  libxcb-xinerama0 libxcb-randr0 libxcb-image0 libxcb-render-util0
exec .venv/bin/crlmboard demo "$@"
