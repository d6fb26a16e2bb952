#!/usr/bin/env bash
# Renders the application icon crlmboard/resources/icons/crlmboard.svg into the PNGs beside
# it (16 … 256 px, used by the app window and the Linux desktop entry) and into the Windows
# .ico and macOS .icns in packaging/icons/ (used by the PyInstaller spec).
# Needs rsvg-convert (Debian: librsvg2-bin) and Pillow (in .venv, a reportlab dependency).
# Run it after changing the SVG; the outputs are committed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-.venv/bin/python}
ICONS=crlmboard/resources/icons
command -v rsvg-convert >/dev/null || { echo "rsvg-convert missing (apt-get install librsvg2-bin)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for size in 16 32 48 64 128 256 512 1024; do
  rsvg-convert -w "$size" -h "$size" "$ICONS/crlmboard.svg" -o "$work/$size.png"
done
for size in 16 32 48 64 128 256; do
  cp "$work/$size.png" "$ICONS/crlmboard-$size.png"
done
"$PYTHON" - "$work" packaging/icons <<'PY'
import sys
from pathlib import Path

from PIL import Image

work, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
images = {s: Image.open(work / f"{s}.png").convert("RGBA") for s in (16, 32, 48, 64, 128, 256, 512, 1024)}
ico = [16, 32, 48, 64, 128, 256]
images[256].save(out / "crlmboard.ico", sizes=[(s, s) for s in ico],
                 append_images=[images[s] for s in ico if s != 256])
icns = [16, 32, 64, 128, 256, 512, 1024]
images[1024].save(out / "crlmboard.icns", append_images=[images[s] for s in icns if s != 1024])
PY
ls -l "$ICONS" packaging/icons
