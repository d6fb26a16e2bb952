"""Opening a database checks its schema revision against the migration scripts without
importing Alembic (needed only when a migration runs): the answer read from the scripts'
text is Alembic's own."""

from __future__ import annotations

import subprocess
import sys

from alembic.script import ScriptDirectory

from crlmboard.store import migrate


def test_the_head_and_known_revisions_are_alembics() -> None:
    script = ScriptDirectory.from_config(migrate._config())
    assert migrate.head_revision() == script.get_current_head()
    scripts = migrate._script_revisions()
    assert scripts is not None
    assert scripts == {r.revision: r.down_revision for r in script.walk_revisions()}
    for revision in scripts:
        migrate.refuse_newer(revision)  # known: no error


def test_a_newer_revision_is_still_refused() -> None:
    import pytest

    from crlmboard.store.database import StoreError

    with pytest.raises(StoreError, match="newer version"):
        migrate.refuse_newer("9999")


def test_the_command_line_and_the_app_start_without_alembic() -> None:
    code = (
        "import sys, crlmboard.cli, crlmboard.app; from crlmboard.store import migrate; "
        "migrate.head_revision(); migrate.refuse_newer(migrate.head_revision()); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alembic', 'reportlab') or m.startswith('crlmboard.interop')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
