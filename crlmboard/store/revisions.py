"""The schema revisions this app knows, read from the migration scripts as text (standard
library only): every opening checks a database against them, and `crlmboard --version`
names the head, without importing Alembic or SQLAlchemy."""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


@functools.cache
def script_revisions() -> dict[str, str | None] | None:
    """revision -> down_revision of every migration script, read as text; None when a
    script is not the plain one-parent form (then Alembic answers)."""
    found: dict[str, str | None] = {}
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        values = dict(_REVISION_LINE.findall(script.read_text("utf-8")))
        revision, down = values.get("revision", ""), values.get("down_revision", "")
        plain = re.fullmatch(r"""(["'])([\w.-]+)\1""", revision)
        parent = re.fullmatch(r"""(["'])([\w.-]+)\1""", down)
        if plain is None or (down != "None" and parent is None):
            return None
        found[plain.group(2)] = parent.group(2) if parent else None
    return found or None


def head_revision() -> str:
    """The schema revision this app writes."""
    scripts = script_revisions()
    if scripts is not None:
        heads = set(scripts) - {down for down in scripts.values() if down is not None}
        if len(heads) == 1:
            return heads.pop()
    from crlmboard.store.migrate import alembic_head

    return alembic_head()
