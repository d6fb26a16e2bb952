#!/usr/bin/env bash
# Builds what a release ships, into dist/ (gitignored):
#   dist/crlmboard-VERSION-py3-none-any.whl and dist/crlmboard-VERSION.tar.gz  (python -m build)
#   dist/crlmboard/             the PyInstaller one-folder app (packaging/crlmboard.spec);
#                               on macOS also dist/crlmboard.app
#   dist/crlmboard_VERSION_ARCH.deb   on Debian/Ubuntu (packaging/build-deb.sh)
# then smoke-tests the wheel and the frozen app outside the checkout (packaging/smoke.sh).
#
#   bash packaging/build.sh [--no-smoke] [--install-deb]
#
# --install-deb also installs the .deb with dpkg -i, smoke-tests /usr/bin/crlmboard and
# removes the package again (needs root).  The Python used is $PYTHON, else .venv's; a clean
# clone on Debian gets its .venv from scripts/setup.sh.  `build` and PyInstaller are installed
# into that environment when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SMOKE=1
INSTALL_DEB=0
for arg in "$@"; do
  case "$arg" in
    --no-smoke) SMOKE=0 ;;
    --install-deb) INSTALL_DEB=1 ;;
    *) echo "usage: bash packaging/build.sh [--no-smoke] [--install-deb]" >&2; exit 2 ;;
  esac
done

if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
elif [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
elif [ -x .venv/Scripts/python.exe ]; then
  PY=.venv/Scripts/python.exe
elif command -v dpkg >/dev/null 2>&1; then
  bash scripts/setup.sh
  PY=.venv/bin/python
else
  python3 -m venv .venv
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=.venv/Scripts/python.exe; fi
fi
export PYTHON=$PY

echo "== build tools"
if ! "$PY" -c "import PySide6, sqlmodel, alembic, reportlab, psycopg, platformdirs" 2>/dev/null
then
  "$PY" -m pip install -q -e .
fi
"$PY" -c "import build.__main__" 2>/dev/null || "$PY" -m pip install -q "build>=1.2"
"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install -q "pyinstaller>=6.10,<7"
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
echo "crlmboard $VERSION, PyInstaller $("$PY" -m PyInstaller --version)"

echo "== wheel and sdist"
# setuptools reuses build/lib: a module deleted from the sources would stay in the wheel
rm -rf "dist/crlmboard-$VERSION-py3-none-any.whl" "dist/crlmboard-$VERSION.tar.gz" \
  build/lib build/bdist.*
"$PY" -m build --outdir dist .

echo "== frozen app (PyInstaller)"
rm -rf dist/crlmboard dist/crlmboard.app
"$PY" -m PyInstaller packaging/crlmboard.spec --noconfirm --clean \
  --distpath dist --workpath build/pyinstaller

DEB=""
if [ "$(uname -s)" = Linux ] && command -v dpkg-deb >/dev/null 2>&1; then
  echo "== .deb"
  bash packaging/build-deb.sh dist/crlmboard
  DEB=$(ls dist/crlmboard_"$VERSION"_*.deb)
fi

if [ "$SMOKE" = 1 ]; then
  echo "== smoke test: wheel"
  bash packaging/smoke.sh wheel "dist/crlmboard-$VERSION-py3-none-any.whl"
  if [ -x dist/crlmboard/crlmboard ]; then
    echo "== smoke test: frozen app"
    bash packaging/smoke.sh frozen dist/crlmboard/crlmboard
  fi
fi
if [ "$INSTALL_DEB" = 1 ] && [ -n "$DEB" ]; then
  echo "== smoke test: .deb"
  bash packaging/smoke.sh deb "$DEB"
fi

echo "== sizes"
du -sh --apparent-size dist/crlmboard 2>/dev/null || du -sh dist/crlmboard
ls -l dist/*.whl dist/*.tar.gz ${DEB:+"$DEB"}
