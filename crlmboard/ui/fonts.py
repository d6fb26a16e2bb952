"""The fonts shipped with the app, made available on screen."""

from __future__ import annotations


def load_bundled_fonts() -> int:
    """Make the fonts shipped for the PDFs available on screen too, so names in any script
    (Greek, Cyrillic, Arabic, Hebrew, CJK) show even where the system has no such font."""
    from importlib import resources

    from PySide6.QtGui import QFontDatabase

    folder = resources.files("crlmboard") / "resources" / "fonts"
    loaded = 0
    if folder.is_dir():
        for item in folder.iterdir():
            if item.name.lower().endswith(".ttf"):
                loaded += QFontDatabase.addApplicationFont(str(item)) >= 0
    return loaded
