#!/usr/bin/env bash
# Builds dist/crlmboard_VERSION_ARCH.deb from the frozen folder (default dist/crlmboard, made
# by packaging/build.sh) with dpkg-deb.  The package installs
#   /opt/crlmboard/                    the frozen app
#   /usr/bin/crlmboard                 a launcher on PATH
#   /usr/share/applications/org.crlmboard.crlmboard.desktop
#   /usr/share/metainfo/org.crlmboard.crlmboard.metainfo.xml
#   /usr/share/icons/hicolor/*/apps/org.crlmboard.crlmboard.{png,svg}
#   /usr/share/doc/crlmboard/copyright
# It has no maintainer scripts: dpkg's triggers refresh the menu and icon caches, and nothing
# ever touches the users' data folders (~/.local/share/crlmboard, ~/.local/state/crlmboard),
# which stay when the package is removed or purged.
#
#   bash packaging/build-deb.sh [FROZEN_FOLDER]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FROZEN=${1:-dist/crlmboard}
APP_ID=org.crlmboard.crlmboard
ICONS=crlmboard/resources/icons
LINUX=packaging/linux
[ -x "$FROZEN/crlmboard" ] || { echo "no frozen app in $FROZEN (run packaging/build.sh)" >&2; exit 1; }

PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
# PEP 440 pre- and dev-releases sort before the release in Debian with a tilde: 1.0rc1 -> 1.0~rc1
DEB_VERSION=$(printf '%s' "$VERSION" | sed -E 's/\.?(a|b|rc|dev)([0-9]+)/~\1\2/g')
ARCH=$(dpkg --print-architecture)
# Set DEB_MAINTAINER for a release ("Name <address>").
MAINTAINER=${DEB_MAINTAINER:-The crlmboard developers <crlmboard@localhost>}
RELEASE_DATE=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

STAGE=build/deb/crlmboard_${DEB_VERSION}_${ARCH}
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/metainfo" "$STAGE/usr/share/doc/crlmboard"

cp -a "$FROZEN" "$STAGE/opt/crlmboard"
cat > "$STAGE/usr/bin/crlmboard" <<'EOF'
#!/bin/sh
exec /opt/crlmboard/crlmboard "$@"
EOF
chmod 755 "$STAGE/usr/bin/crlmboard"

install -m 644 "$LINUX/$APP_ID.desktop" "$STAGE/usr/share/applications/$APP_ID.desktop"
# The metainfo gets its release entry here, from pyproject.toml's version (kept only there).
sed "s|</component>|  <releases>\n    <release version=\"$VERSION\" date=\"$RELEASE_DATE\"/>\n  </releases>\n</component>|" \
  "$LINUX/$APP_ID.metainfo.xml" > "$STAGE/usr/share/metainfo/$APP_ID.metainfo.xml"
chmod 644 "$STAGE/usr/share/metainfo/$APP_ID.metainfo.xml"
for size in 16 32 48 64 128 256; do
  dir="$STAGE/usr/share/icons/hicolor/${size}x${size}/apps"
  mkdir -p "$dir"
  install -m 644 "$ICONS/crlmboard-$size.png" "$dir/$APP_ID.png"
done
mkdir -p "$STAGE/usr/share/icons/hicolor/scalable/apps"
install -m 644 "$ICONS/crlmboard.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"

cat > "$STAGE/usr/share/doc/crlmboard/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: crlmboard

Files: *
License: MIT

Files: opt/crlmboard/_internal/crlmboard/resources/fonts/*
Comment: Noto Sans and Droid Sans Fallback (SIL OFL 1.1 / Apache 2.0) and DejaVu Sans;
 their licenses are installed beside them.
License: OFL-1.1 and Apache-2.0 and Bitstream-Vera

Files: opt/crlmboard/_internal/*
Comment: Python, Qt (PySide6, LGPL-3.0) and the other libraries the app bundles, under
 their own licenses.
License: various
EOF
chmod 644 "$STAGE/usr/share/doc/crlmboard/copyright"

# Everything root-owned and world-readable; only programs and shared libraries executable.
find "$STAGE" -type d -exec chmod 755 {} +
find "$STAGE" -type f ! -perm -u+x -exec chmod 644 {} +
find "$STAGE" -type f -perm -u+x -exec chmod 755 {} +

# The system libraries the bundle leaves out (packaging/crlmboard.spec, LINUX_SYSTEM) and
# those Qt's platform plugins load: C library, OpenGL/EGL, D-Bus, GLib, fontconfig,
# X11/xcb, xkbcommon, Wayland.
DEPENDS="libc6, libegl1, libgl1, libdbus-1-3, libglib2.0-0, libfontconfig1, libfreetype6,
 libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0,
 libxcb-keysyms1, libxcb-randr0, libxcb-render0, libxcb-render-util0, libxcb-shape0,
 libxcb-shm0, libxcb-sync1, libxcb-util1, libxcb-xfixes0, libxcb-xkb1, libxkbcommon0,
 libxkbcommon-x11-0, libwayland-client0, libwayland-cursor0"
INSTALLED_SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<EOF
Package: crlmboard
Version: $DEB_VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $INSTALLED_SIZE
Depends: $DEPENDS
Section: science
Priority: optional
Description: case manager for tumor boards treating colorectal liver metastases
 crlmboard keeps what a multidisciplinary tumor board needs to review a patient
 with colorectal liver metastases: staging, molecular profile, chemotherapy,
 imaging with per-lesion measurements, liver volumetry and the surgical plan.
 A guideline engine checks every case against the published rules and says why;
 it supports the board and decides nothing.
 .
 This package installs the self-contained app under /opt/crlmboard.
EOF

if command -v desktop-file-validate >/dev/null 2>&1; then
  desktop-file-validate "$STAGE/usr/share/applications/$APP_ID.desktop"
fi
if command -v appstreamcli >/dev/null 2>&1; then
  appstreamcli validate --no-net --explain "$STAGE/usr/share/metainfo/$APP_ID.metainfo.xml" >/dev/null
fi

mkdir -p dist
OUT="dist/crlmboard_${DEB_VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT"
dpkg-deb --info "$OUT" | sed -n '/Package:/,/Installed-Size:/p'
ls -l "$OUT"
