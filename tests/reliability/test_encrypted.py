"""The data-safety scenarios again, on a database encrypted with SQLCipher (issue 20): the
same test functions, given an encrypted `filled` database whose passphrase this process
knows (as after the app asked for it).  Left out: the full-disk scenario, whose harness
caps the file with `max_page_count` (SQLCipher honours the cap, but the encrypted file's
free pages absorb the test's write), and the crash and concurrency scenarios, whose child
processes open the database without a passphrase."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from crlmboard.services import Board
from crlmboard.services.maintenance import encrypt_database
from crlmboard.store import backup as store_backup
from crlmboard.store import encryption
from tests.conftest import GOLDEN, TODAY
from tests.services import test_maintenance as scenarios

pytestmark = pytest.mark.db

PASSPHRASE = "synthetic reliability passphrase"


@pytest.fixture
def filled(db_path: Path) -> Iterator[Path]:
    """The golden cases in a database encrypted after they were imported."""
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    encrypt_database(db_path, PASSPHRASE)
    assert encryption.is_encrypted(db_path)
    with Board.open(db_path, clock=lambda: TODAY) as board:
        board.maintenance.backup()  # as the plain fixture: the newest backup holds the state
    yield db_path
    encryption._passphrases.clear()


@pytest.fixture(autouse=True)
def _shell_with_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scenarios' "sqlite3 shell" becomes the SQLCipher shell given the passphrase:
    tampering with an encrypted file needs its key."""

    def keyed(path: Path) -> Any:
        return encryption.connect(path, PASSPHRASE)

    def table_hashes(path: Path) -> dict[str, str]:
        connection = keyed(path)
        try:
            return store_backup.table_hashes(connection)
        finally:
            connection.close()

    monkeypatch.setattr(scenarios, "raw", keyed)
    monkeypatch.setattr(
        scenarios,
        "sqlite3",
        SimpleNamespace(**{**vars(sqlite3), "Row": encryption.cipher_module().Row}),
    )
    monkeypatch.setattr(scenarios, "table_hashes", table_hashes)


test_a_second_app_opens_read_only_naming_the_holder = (
    scenarios.test_a_second_app_opens_read_only_naming_the_holder
)
test_command_writes_wait_then_fail_naming_the_holder = (
    scenarios.test_command_writes_wait_then_fail_naming_the_holder
)
test_a_change_to_a_signed_review_is_refused_and_audited = (
    scenarios.test_a_change_to_a_signed_review_is_refused_and_audited
)
test_check_lists_an_orphan_and_changes_nothing = (
    scenarios.test_check_lists_an_orphan_and_changes_nothing
)
test_check_catches_a_shortened_or_rewritten_chain_by_the_backup_anchor = (
    scenarios.test_check_catches_a_shortened_or_rewritten_chain_by_the_backup_anchor
)
test_a_backup_has_a_manifest_and_private_modes = (
    scenarios.test_a_backup_has_a_manifest_and_private_modes
)
test_a_folder_import_is_preceded_by_a_backup = (
    scenarios.test_a_folder_import_is_preceded_by_a_backup
)
test_an_interrupted_backup_is_never_offered_and_is_cleaned_up = (
    scenarios.test_an_interrupted_backup_is_never_offered_and_is_cleaned_up
)
test_a_corrupt_newest_backup_fails_verification_and_is_not_kept = (
    scenarios.test_a_corrupt_newest_backup_fails_verification_and_is_not_kept
)
test_restore_backs_up_first_pauses_rotation_and_is_audited = (
    scenarios.test_restore_backs_up_first_pauses_rotation_and_is_audited
)
test_a_corrupt_database_is_refused_kept_and_restored = (
    scenarios.test_a_corrupt_database_is_refused_kept_and_restored
)
test_restore_from_an_open_but_damaged_database = (
    scenarios.test_restore_from_an_open_but_damaged_database
)


SCENARIOS = (
    "test_a_stale_lock_is_taken_over",
    "test_history_names_who_changed_what",
    "test_check_passes_on_a_sound_database",
    "test_check_finds_a_silently_changed_value",
    "test_a_clean_close_leaves_no_wal",
)
for _name in SCENARIOS:  # the same test functions, collected here with this module's fixtures
    globals()[_name] = getattr(scenarios, _name)
