#!/usr/bin/env bash
# Smoke test of a build, run outside the checkout in a clean environment (empty HOME, no
# PYTHONPATH, no CRLMBOARD_* variables):
#   --version names pyproject.toml's version; a demo database with every demo case; one
#   evaluation of a case file; one PDF, read back with pypdf; the main window opened
#   offscreen, with screenshots that are not blank.
#
#   bash packaging/smoke.sh wheel  dist/crlmboard-VERSION-py3-none-any.whl  (fresh venv)
#   bash packaging/smoke.sh frozen dist/crlmboard/crlmboard
#   bash packaging/smoke.sh deb    dist/crlmboard_VERSION_ARCH.deb   (root: dpkg -i, test, dpkg -r)
#
# The checks run with $PYTHON (default .venv/bin/python), which needs pypdf and Pillow
# (installed into it when missing).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIND=${1:?usage: smoke.sh wheel|frozen|deb FILE}
TARGET=$(realpath "${2:?usage: smoke.sh wheel|frozen|deb FILE}")
PY=${PYTHON:-$ROOT/.venv/bin/python}
case "$PY" in /*) ;; *) PY=$ROOT/$PY ;; esac
VERSION=$("$PY" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$ROOT/pyproject.toml")
"$PY" -c "import pypdf, PIL" 2>/dev/null || "$PY" -m pip install -q pypdf pillow

WORK=$(mktemp -d /tmp/crlmboard-smoke.XXXXXX)
cleanup() {
  if [ "$KIND" = deb ] && dpkg -s crlmboard >/dev/null 2>&1; then dpkg -r crlmboard >/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"  # outside the checkout

fail() { echo "SMOKE FAILED ($KIND): $*" >&2; exit 1; }

case "$KIND" in
  wheel)
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install -q "$TARGET"
    APP=$WORK/venv/bin/crlmboard ;;
  frozen)
    APP=$TARGET ;;
  deb)
    [ "$(id -u)" = 0 ] || fail "installing a .deb needs root"
    # apt resolves the package's Depends (Qt's X11/xcb libraries) on a fresh machine
    deb=$(readlink -f "$TARGET")
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" \
      >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "$deb" >/dev/null; }
    APP=/usr/bin/crlmboard ;;
  *) fail "unknown kind $KIND" ;;
esac

run() {  # the app with a clean environment and its own HOME
  env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    "$APP" "$@"
}
mkdir -p "$WORK/home"

out=$(run --version) || fail "--version: $out"
echo "$out" | head -n 1
[ "$(echo "$out" | head -n 1)" = "crlmboard $VERSION" ] || fail "--version says '$out', not $VERSION"

out=$(run demo --no-open --db "$WORK/demo.sqlite3") || fail "demo: $out"
echo "$out"
cases=$(ls "$ROOT"/crlmboard/resources/demo/DEMO-*.json | wc -l)
echo "$out" | grep -q ": $cases cases\." || fail "demo database without its $cases cases"

cp "$ROOT/crlmboard/resources/demo/DEMO-0007-pve-flr-remeasured.json" "$WORK/case.json"
run evaluate "$WORK/case.json" --as-of 2026-01-15 > "$WORK/evaluation.json" \
  || fail "evaluate"
"$PY" - "$WORK/evaluation.json" <<'PY' || fail "evaluation"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert doc["as_of"] == "2026-01-15" and doc["findings"], doc.keys()
print(f"evaluation: {len(doc['findings'])} findings, engine {doc['engine_version']}")
PY

run pdf DEMO-0007 --db "$WORK/demo.sqlite3" -o "$WORK/summary.pdf" || fail "pdf"
"$PY" - "$WORK/summary.pdf" "$VERSION" <<'PY' || fail "PDF"
import sys
from pypdf import PdfReader
reader = PdfReader(sys.argv[1])
text = "\n".join(page.extract_text() for page in reader.pages)
assert "DEMO-0007" in text, "no MRN in the PDF"
assert f"crlmboard {sys.argv[2]}" in text, "no app version in the PDF footer"
print(f"PDF: {len(reader.pages)} pages, MRN and version found")
PY

run screenshots "$WORK/shots" > "$WORK/shots.txt" || fail "screenshots"
"$PY" - "$WORK/shots" <<'PY' || fail "screenshots"
import sys
from pathlib import Path
from PIL import Image
shots = sorted(Path(sys.argv[1]).glob("*.png"))
assert len(shots) >= 5, f"only {len(shots)} screenshots"
for shot in shots:
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50, f"{shot.name} is blank"
print(f"screenshots: {len(shots)}, none blank")
PY

if [ "$KIND" = deb ]; then
  [ -f /usr/share/applications/org.crlmboard.crlmboard.desktop ] || fail "no desktop entry"
  [ -f /usr/share/icons/hicolor/256x256/apps/org.crlmboard.crlmboard.png ] || fail "no icon"
  mkdir -p "$WORK/home/.local/share/crlmboard"
  touch "$WORK/home/.local/share/crlmboard/user-data-marker"
  dpkg -r crlmboard >/dev/null
  [ ! -e /opt/crlmboard ] && [ ! -e /usr/bin/crlmboard ] || fail "files left after dpkg -r"
  [ -f "$WORK/home/.local/share/crlmboard/user-data-marker" ] || fail "removal touched user data"
  echo "deb: installed, ran, removed; the user's data folder is untouched"
fi
echo "smoke test passed: $KIND $(basename "$TARGET")"
