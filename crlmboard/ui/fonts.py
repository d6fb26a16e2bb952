"""The fonts shipped with the app, made available on screen."""

from __future__ import annotations

from collections.abc import Iterable

_loaded = -1  # how many were loaded, once per process (-1: not yet)

# Latin (with its accents and extensions), Greek and Cyrillic: the pan-European set
# (Microsoft's WGL4) that the system's UI fonts show everywhere the app runs (Segoe UI,
# San Francisco, DejaVu, Noto, Liberation); scripts past them may need the bundled fonts
PAN_EUROPEAN_END = 0x052F


def load_bundled_fonts() -> int:
    """Make the fonts shipped for the PDFs available on screen too, so names in any script
    (Greek, Cyrillic, Arabic, Hebrew, CJK) show even where the system has no such font.
    Once per process (the number loaded the first time)."""
    global _loaded
    if _loaded >= 0:
        return _loaded
    from PySide6.QtGui import QFontDatabase

    from crlmboard import packaged

    folder = packaged("fonts")
    loaded = 0
    if folder.is_dir():
        for item in folder.iterdir():
            if item.name.lower().endswith(".ttf"):
                loaded += QFontDatabase.addApplicationFont(str(item)) >= 0
    _loaded = loaded
    return loaded


def beyond_pan_european(texts: Iterable[str | None]) -> bool:
    """Whether any of `texts` has a letter past Latin, Greek and Cyrillic (Arabic, Hebrew,
    CJK…: a script the bundled fonts may be needed for)."""
    return any(ord(ch) > PAN_EUROPEAN_END for text in texts if text for ch in text)
