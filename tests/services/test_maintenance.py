"""board.maintenance and the data-safety side of the Board, on real database files:
the one-writer lock and read-only mode, the audit trail through services, `check`, backups,
retention and restore.  Scenario ids refer to reliability-tests.md."""

from __future__ import annotations

import copy
import getpass
import hashlib
import json
import os
import socket
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.services import Board, BoardError
from crlmboard.services.maintenance import (
    BackupCancelled,
    DatabaseCorrupt,
    ReadOnly,
    SignedReviewLocked,
    restore_database,
    sqlite_warning,
)
from crlmboard.store import backup as store_backup
from crlmboard.store import lock as store_lock
from crlmboard.store import migrate
from crlmboard.store.audit import SUMMARY_FIELDS
from crlmboard.store.integrity import wal_reset_affected
from tests.conftest import GOLDEN, TODAY

pytestmark = pytest.mark.db

SIGNED = {
    "meeting_date": "2025-02-04",
    "decision": "Resect segments 6 and 7.",
    "signed_by": "Dr Lind",
    "signed_at": "2025-02-04T13:00:00Z",
}


class Clock:
    """A settable UTC clock for backups and audit times."""

    def __init__(self, start: datetime = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)):
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def open_board(path: Path, clock: Clock | None = None, **options: Any) -> Board:
    return Board.open(path, clock=lambda: TODAY, now=clock, **options)


def write_document(folder: Path, document: dict[str, Any], name: str = "case.json") -> Path:
    target = folder / name
    target.write_text(json.dumps(document), "utf-8")
    return target


@pytest.fixture
def filled(db_path: Path) -> Path:
    """A database holding the three golden cases (closed again)."""
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert board.cases.import_path(GOLDEN).ok
    return db_path


def raw(path: Path) -> sqlite3.Connection:
    """What a person with the sqlite3 shell could do."""
    return sqlite3.connect(path, isolation_level=None)


# -- one writer -------------------------------------------------------------------------


def test_a_second_app_opens_read_only_naming_the_holder(filled: Path) -> None:
    """T9 (in process): no crash, a banner naming user, host and pid; every write refused."""
    first = open_board(filled)
    me = getpass.getuser()
    try:
        second = open_board(filled)
        try:
            assert second.read_only and not first.read_only
            reason = second.read_only_reason or ""
            assert me in reason and str(os.getpid()) in reason
            assert second.lock_holder is not None and second.lock_holder.user == me
            assert second.cases.count() == 3  # reading works
            case, version = second.cases.get_with_version("EX-0001")
            with pytest.raises(ReadOnly, match="read-only"):
                second.cases.save(case, version)
            with pytest.raises(ReadOnly):
                second.cases.import_path(GOLDEN, replace=True)
            with pytest.raises(ReadOnly):
                second.maintenance.restore(filled)
        finally:
            second.close()
        first.cases.save(*first.cases.get_with_version("EX-0001"))  # the holder still writes
    finally:
        first.close()
    with open_board(filled) as third:
        assert not third.read_only


def test_command_writes_wait_then_fail_naming_the_holder(filled: Path) -> None:
    with open_board(filled):
        command = open_board(filled, exclusive=False, wait=0.2)
        try:
            assert not command.read_only
            case, version = command.cases.get_with_version("EX-0001")
            with pytest.raises(
                BoardError, match=rf"open for writing by {getpass.getuser()} on .*process"
            ):
                command.cases.save(case, version)
        finally:
            command.close()
    with open_board(filled, exclusive=False, wait=0.2) as command:
        command.cases.save(*command.cases.get_with_version("EX-0001"))


def test_a_stale_lock_is_taken_over(filled: Path) -> None:
    holder = store_lock.LockHolder(
        "bob", socket.gethostname(), 2**22 + 12345, datetime(2026, 1, 1, tzinfo=UTC)
    )
    store_lock.lock_path(filled).write_text(holder.as_json(), "utf-8")
    with open_board(filled) as board:
        assert not board.read_only
        assert any("not closed properly" in note for note in board.notes)


def test_without_flock_a_dead_holder_is_replaced_and_a_live_one_respected(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_lock, "fcntl", None)
    path = store_lock.lock_path(filled)
    host = socket.gethostname()
    path.write_text(
        store_lock.LockHolder("bob", host, 2**22 + 12345, datetime.now(UTC)).as_json(), "utf-8"
    )
    taker = store_lock.DatabaseLock(filled, "carol")
    assert taker.try_acquire() and taker.took_over is not None
    other = store_lock.DatabaseLock(filled, "dave")
    assert not other.try_acquire()
    holder = other.holder()
    assert holder is not None and holder.user == "carol"
    taker.release()
    assert not path.exists() and other.try_acquire()
    other.release()


# -- read-only files ----------------------------------------------------------------------


@pytest.mark.parametrize("keep_shm", [True, False])
def test_a_read_only_database_opens_read_only(
    filled: Path, upfront: dict[str, Any], tmp_path: Path, keep_shm: bool
) -> None:
    """T13 with a `mode=ro` URI (CI runs as root, where chmod 0444 does not stop writes)."""
    keeper = raw(filled) if keep_shm else None  # holds the -shm in place
    if keeper is not None:
        keeper.execute("SELECT count(*) FROM patient").fetchall()
    before = sha256(filled)
    try:
        board = Board.open(f"sqlite:///file:{filled}?mode=ro&uri=true", clock=lambda: TODAY)
        try:
            assert board.read_only and "read-only" in (board.read_only_reason or "")
            assert board.cases.count() == 3
            case, version = board.cases.get_with_version("EX-0001")
            with pytest.raises(ReadOnly):
                board.cases.save(case, version)
            upfront["patient"]["mrn"] = "EX-0077"
            with pytest.raises(ReadOnly):
                board.cases.import_path(write_document(tmp_path, upfront))
            assert board.maintenance.backup().verified  # reading is all a backup needs
        finally:
            board.close()
    finally:
        if keeper is not None:
            keeper.close()
    assert sha256(filled) == before


# -- the audit trail through services ------------------------------------------------------


def test_history_names_who_changed_what(filled: Path) -> None:
    """T36: every row has UTC time, user, OS login, host, app version and action; on SQLite
    the user is the OS account (there is no name to type in)."""
    with open_board(filled) as board:
        case, version = board.cases.get_with_version("EX-0001")
        patient = case.patient.model_copy(update={"ecog": 2})
        board.cases.save(case.model_copy(update={"patient": patient}), version)
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case.model_copy(update={"labs": []}), version)
        history = board.maintenance.case_history("EX-0001")
        with pytest.raises(BoardError):
            board.maintenance.case_history("NOPE")
    edit = [e for e in history if e.action == "update" and e.table == "patient"][-1]
    me = getpass.getuser()
    # the case list's summary is audited with the case: the edit may change it too
    fields = [f for f in edit.fields if f not in SUMMARY_FIELDS]
    after = {k: v for k, v in (edit.after or {}).items() if k not in SUMMARY_FIELDS}
    assert (edit.app_user, fields, after) == (me, ["ecog"], {"ecog": 2})
    assert {e.app_user for e in history} == {me} == {e.os_login for e in history}
    assert board.user == me and board.identity.name == me
    for entry in history:
        assert entry.at.tzinfo is not None and entry.os_login and entry.host
        assert entry.app_version and entry.action


def test_a_change_to_a_signed_review_is_refused_and_audited(
    board: Board, tmp_path: Path, upfront: dict[str, Any]
) -> None:
    """T34 through the Board."""
    upfront["reviews"] = [SIGNED]
    board.cases.import_path(write_document(tmp_path, upfront))
    case, version = board.cases.get_with_version("EX-0001")
    changed = case.reviews[0].model_copy(update={"decision": "Do not resect."})
    with pytest.raises(SignedReviewLocked, match="signed on 2025-02-04"):
        board.cases.save(case.model_copy(update={"reviews": [changed]}), version)
    with pytest.raises(SignedReviewLocked):
        board.cases.save(case.model_copy(update={"reviews": []}), version)
    assert board.cases.get("EX-0001").reviews == case.reviews
    refusals = [e for e in board.maintenance.case_history("EX-0001") if e.action == "refused"]
    assert len(refusals) == 2 and refusals[0].table == "review"
    amended = case.reviews[0].model_copy(update={"decision": "Resect segment 6.", "amends": 0})
    saved = board.cases.save(
        case.model_copy(update={"reviews": [case.reviews[0], amended]}), version
    )
    assert saved.version == version + 1
    assert board.maintenance.check().ok


# -- check ----------------------------------------------------------------------------------


def test_check_passes_on_a_sound_database(filled: Path) -> None:
    steps: list[str] = []
    with open_board(filled) as board:
        report = board.maintenance.check(progress=lambda step, *_: steps.append(step))
    assert report.ok, report.problems
    assert report.audit_rows > 0 and report.audit_head is not None
    assert "integrity_check" in report.passed and "foreign_key_check" in report.passed
    assert "audit chain" in steps and steps[-1] == "done"
    assert report.sqlite_version == sqlite3.sqlite_version


def test_check_finds_a_silently_changed_value(filled: Path) -> None:
    """T19: integrity_check cannot see a changed byte inside a value; check can."""
    with raw(filled) as connection:
        connection.execute("UPDATE patient SET family_name = 'Exbmple' WHERE mrn = 'EX-0001'")
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        case_id = connection.execute("SELECT id FROM patient WHERE mrn = 'EX-0001'").fetchone()[0]
    with open_board(filled) as board:
        report = board.maintenance.check()
    assert not report.ok
    assert any(f"patient row {case_id}, field family_name" in p for p in report.problems)
    assert not any("Exbmple" in p or "EX-0001" in p for p in report.problems)


def test_check_lists_an_orphan_and_changes_nothing(filled: Path) -> None:
    """T20: an orphan inserted with foreign_keys=OFF is listed by foreign_key_check."""
    with raw(filled) as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute(
            "INSERT INTO lab_result (date, case_id, position) VALUES ('2025-01-01', 999, 0)"
        )
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = sha256(filled)
    with open_board(filled) as board:
        report = board.maintenance.check()
    assert any("foreign_key_check: lab_result row" in p for p in report.problems)
    assert sha256(filled) == before


def test_check_catches_a_shortened_or_rewritten_chain_by_the_backup_anchor(filled: Path) -> None:
    """T32 d (last rows deleted) and e (a row rewritten with every later hash recomputed):
    the chain still verifies, but no longer matches the head the newest backup recorded."""
    from crlmboard.store.audit import GENESIS, row_hash

    with open_board(filled) as board:
        info = board.maintenance.backup()
        assert info.audit_head is not None
    with raw(filled) as connection:
        connection.execute("DROP TRIGGER audit_event_no_delete")
        connection.execute("DELETE FROM audit_event WHERE seq > ?", (info.audit_head.seq - 3,))
    with open_board(filled) as board:
        report = board.maintenance.check()
    assert any("audit rows after row" in p and info.path.name in p for p in report.problems)
    assert not any("audit chain broken" in p for p in report.problems)

    store_backup.restore_file(info.path, filled)
    with raw(filled) as connection:
        connection.execute("DROP TRIGGER audit_event_no_update")
        connection.row_factory = sqlite3.Row
        rows = [dict(r) for r in connection.execute("SELECT * FROM audit_event ORDER BY seq")]
        rows[2]["app_user"] = "mallory"
        previous = GENESIS
        for row in rows:
            row["prev_hash"] = previous
            row["row_hash"] = previous = row_hash(previous, row)
            connection.execute(
                "UPDATE audit_event SET app_user = ?, prev_hash = ?, row_hash = ? WHERE seq = ?",
                (row["app_user"], row["prev_hash"], row["row_hash"], row["seq"]),
            )
    with open_board(filled) as board:
        report = board.maintenance.check()
    assert any("was rewritten" in p for p in report.problems), report.problems
    assert not any("audit chain broken" in p for p in report.problems)


def test_the_wal_reset_version_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """T10."""
    for version, affected in [
        ((3, 40, 1), True),
        ((3, 51, 2), True),
        ((3, 51, 3), False),
        ((3, 44, 6), False),
        ((3, 44, 5), True),
        ((3, 50, 7), False),
        ((3, 50, 6), True),
        ((3, 6, 23), False),
        ((3, 45, 0), True),
    ]:
        assert wal_reset_affected(version) is affected, version
    import crlmboard.services.maintenance as maintenance

    monkeypatch.setattr(maintenance, "sqlite_library_version", lambda: "3.51.2")
    assert "WAL-reset" in (sqlite_warning() or "")
    monkeypatch.setattr(maintenance, "sqlite_library_version", lambda: "3.51.3")
    assert sqlite_warning() is None


# -- backups ------------------------------------------------------------------------------


def test_a_backup_has_a_manifest_and_private_modes(filled: Path, tmp_path: Path) -> None:
    with open_board(filled) as board:
        info = board.maintenance.backup()
        chosen = board.maintenance.backup(tmp_path / "elsewhere" / "copy.sqlite3")
        listed = board.maintenance.list_backups()
    assert info.verified and info.patients == 3 and info.schema == migrate.head_revision()
    manifest = info.manifest
    for key in (
        "created",
        "app_version",
        "schema",
        "patients",
        "tables",
        "audit_head",
        "sha256",
        "sqlite_version",
    ):
        assert key in manifest
    assert set(manifest["tables"]) >= {"patient", "audit_event", "review"}
    assert info.path.parent == filled.parent / "backups"
    assert info.path in [b.path for b in listed] and chosen.path not in [b.path for b in listed]
    assert chosen.verified and store_backup.manifest_path(chosen.path).exists()
    assert store_backup.verify_backup(info.path, deep=True).verified
    for path in (info.path, store_backup.manifest_path(info.path), filled):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert info.path.parent.stat().st_mode & 0o777 == 0o700


def test_a_backup_stopped_by_its_progress_writes_nothing(filled: Path, tmp_path: Path) -> None:
    """File ▸ Back up's Cancel: `progress` answers False, and neither the backups folder
    nor a chosen file gets anything (the copy stops at its first step)."""
    with open_board(filled) as board:
        earlier = board.maintenance.backup()
        listed = [b.path for b in board.maintenance.list_backups()]
        before = sorted(p.name for p in earlier.path.parent.iterdir())
        chosen = tmp_path / "elsewhere" / "copy.sqlite3"
        for destination in (None, chosen):
            with pytest.raises(BackupCancelled, match=r"^Backup cancelled: nothing written\.$"):
                board.maintenance.backup(destination, progress=lambda _d, _t: False)
        assert [b.path for b in board.maintenance.list_backups()] == listed
    assert sorted(p.name for p in earlier.path.parent.iterdir()) == before
    assert list(chosen.parent.iterdir()) == []
    assert store_backup.verify_backup(earlier.path, deep=True).verified


def test_the_backup_before_an_upgrade_cannot_be_stopped(tmp_path: Path) -> None:
    """The upgrade's progress answering False (as the app's would after a Cancel) does not
    skip the safety copy: the upgrade goes on after a verified backup, as always."""
    path = tmp_path / "board.sqlite3"
    path.write_bytes(
        (Path(__file__).parent.parent / "fixtures" / "schema-0003.sqlite3").read_bytes()
    )
    heard: list[str] = []

    def refusing(step: str, *_counts: int) -> bool:
        heard.append(step)
        return False

    with Board.open(path, create=False, clock=lambda: TODAY, progress=refusing) as board:
        assert board.cases.count() == 3
    assert "backing up the database before the upgrade" in heard
    taken = [
        b for b in store_backup.list_backups(path) if b.reason == "before upgrade from schema 0003"
    ]
    assert len(taken) == 1 and taken[0].verified


def test_automatic_backups_when_changed_at_most_hourly(db_path: Path) -> None:
    clock = Clock()
    with open_board(db_path, clock):
        pass
    assert store_backup.list_backups(db_path) == []  # nothing to protect yet
    with open_board(db_path, clock) as board:
        board.cases.import_path(GOLDEN / "upfront-resection.json")
    assert len(store_backup.list_backups(db_path)) == 1  # at close: it changed
    clock.advance(minutes=10)
    with open_board(db_path, clock) as board:
        board.cases.import_path(GOLDEN / "flr-after-chemotherapy.json")
    assert len(store_backup.list_backups(db_path)) == 1  # within the hour
    clock.advance(hours=2)
    with open_board(db_path, clock):
        pass
    backups = store_backup.list_backups(db_path)
    assert len(backups) == 2 and backups[0].reason == "open" and backups[0].patients == 2
    clock.advance(hours=2)
    with open_board(db_path, clock):
        pass
    assert len(store_backup.list_backups(db_path)) == 2  # nothing changed


def test_a_folder_import_is_preceded_by_a_backup(filled: Path) -> None:
    clock = Clock()
    with open_board(filled, clock) as board:
        before = len(board.maintenance.list_backups())
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case.model_copy(update={"labs": []}), version)
        board.cases.import_path(GOLDEN, replace=True)
        backups = board.maintenance.list_backups()
    assert len(backups) == before + 1 and backups[0].reason == "before folder import"


def test_retention_keeps_the_last_ten_and_one_per_day_for_thirty_days() -> None:
    """T22 (the rule, over 90 simulated days of hourly backups)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    infos = [
        store_backup.BackupInfo(
            Path(f"b{i:05d}"), start + timedelta(hours=i), 1, "0002", "open", None, True
        )
        for i in range(90 * 24)
    ]
    now = infos[-1].created
    assert now is not None
    keep = store_backup.to_keep(infos, now)
    newest_ten = {b.path for b in infos[-10:]}
    per_day: dict[date, Path] = {}
    for b in infos:
        assert b.created is not None
        if b.created >= now - timedelta(days=30):
            per_day[b.created.date()] = b.path
    assert keep == newest_ten | set(per_day.values())
    assert len(keep) == 10 + 30  # today's newest is among the last ten
    failed = [
        *infos[:-1],
        store_backup.BackupInfo(Path("bad"), now, 1, "0002", "open", None, False),
    ]
    assert Path("bad") not in store_backup.to_keep(failed, now)
    future = store_backup.BackupInfo(
        Path("later"), now + timedelta(days=365), 1, "0002", "open", None, True
    )
    assert Path("later") in store_backup.to_keep([*infos, future], now)


def test_retention_with_real_files_under_simulated_time(db_path: Path) -> None:
    """T22 with real backups: a change and an open every 11 hours for 20 days."""
    clock = Clock()
    document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    with open_board(db_path, clock) as board:
        board.cases.import_text(json.dumps(document))
    for step in range(44):
        clock.advance(hours=11)
        with open_board(db_path, clock) as board:
            case, version = board.cases.get_with_version("EX-0001")
            patient = case.patient.model_copy(update={"weight_kg": 50.0 + step})
            board.cases.save(case.model_copy(update={"patient": patient}), version)
    backups = store_backup.list_backups(db_path)
    assert all(b.verified for b in backups)
    expected = store_backup.to_keep(backups, clock())
    assert {b.path for b in backups} == expected
    assert 10 < len(backups) <= 10 + 30
    created = [b.created for b in backups if b.created]
    assert len(created) == len(set(created))


def test_backups_fsync_and_rename_and_write_the_manifest_last(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T25."""
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(f"fsync {os.readlink(f'/proc/self/fd/{fd}')}")
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        events.append(f"replace {Path(target).name}")
        real_replace(source, target)

    with open_board(filled) as board:
        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        info = board.maintenance.backup()
        monkeypatch.undo()
    folder = str(info.path.parent)
    name = info.path.name
    replaced = events.index(f"replace {name}")
    assert any(e.startswith("fsync ") and f".{name}.tmp" in e for e in events[:replaced])
    assert f"fsync {folder}" in events[replaced:]
    manifest = events.index(f"replace {name}{store_backup.MANIFEST_SUFFIX}")
    assert manifest > replaced and events[-1] == f"fsync {folder}"


def test_an_interrupted_backup_is_never_offered_and_is_cleaned_up(filled: Path) -> None:
    """T2 (the aftermath): a temporary file and a backup without manifest."""
    with open_board(filled) as board:
        good = board.maintenance.backup()
    folder = good.path.parent
    half = folder / f"{filled.name}-20991231-235959-000000Z.sqlite3"
    half.write_bytes(good.path.read_bytes()[:4096])
    temporary = folder / f".{filled.name}-20991231-235958-000000Z.sqlite3.tmp-99"
    temporary.write_bytes(b"partial")
    listed = store_backup.list_backups(filled)
    assert not next(b for b in listed if b.path == half).verified
    assert store_backup.newest_verified(filled) is not None
    assert store_backup.newest_verified(filled).path == good.path  # type: ignore[union-attr]
    with open_board(filled):
        pass
    assert not half.exists() and not temporary.exists() and good.path.exists()


def test_a_corrupt_newest_backup_fails_verification_and_is_not_kept(filled: Path) -> None:
    """T21."""
    clock = Clock()
    with open_board(filled, clock) as board:
        older = board.maintenance.backup()
        clock.advance(minutes=5)
        newest = board.maintenance.backup()
    data = bytearray(newest.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.path.write_bytes(bytes(data))
    listed = store_backup.list_backups(filled)
    assert [b.verified for b in listed[:2]] == [False, True]
    assert "changed" in (listed[0].problem or "")
    assert store_backup.newest_verified(filled).path == older.path  # type: ignore[union-attr]
    assert newest.path not in store_backup.to_keep(listed, clock())
    with pytest.raises(BoardError, match="failed verification"):
        restore_database(filled, newest.path)
    clock.advance(days=40)
    store_backup.prune(filled, clock())
    assert older.path.exists()  # the last verified backup is never pruned


# -- restore -----------------------------------------------------------------------------


def table_hashes(path: Path) -> dict[str, str]:
    connection = sqlite3.connect(path)
    try:
        return store_backup.table_hashes(connection)
    finally:
        connection.close()


def test_restore_backs_up_first_pauses_rotation_and_is_audited(filled: Path) -> None:
    """T26."""
    clock = Clock()
    with open_board(filled, clock) as board:
        taken = board.maintenance.backup()
        clock.advance(minutes=1)
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case.model_copy(update={"labs": []}), version)
        clock.advance(minutes=1)
        result = board.maintenance.restore(taken.path)
        assert result.safety_backup is not None and result.kept_aside is None
        assert board.cases.get("EX-0001").labs == case.labs
        assert board.maintenance.rotation_paused()
        report = board.maintenance.check()
        assert report.ok, report.problems
        clock.advance(days=60)
        case, version = board.cases.get_with_version("EX-0002")
        board.cases.save(case.model_copy(update={"labs": []}), version)
    backups = store_backup.list_backups(filled)
    assert result.safety_backup in [b.path for b in backups]
    safety = store_backup.verify_backup(result.safety_backup, deep=True)
    assert safety.verified and safety.reason == "before restore"
    # paused: nothing pruned although 60 days passed
    assert {taken.path, result.safety_backup} <= {b.path for b in backups}
    with raw(filled) as connection:
        event = connection.execute(
            "SELECT after_json FROM audit_event WHERE action = 'restore'"
        ).fetchone()
    assert json.loads(event[0])["backup"] == taken.path.name
    with open_board(filled, clock) as board:
        board.maintenance.resume_rotation()
        assert not board.maintenance.rotation_paused()


@pytest.mark.parametrize("damage", ["zero-page", "header", "truncate"])
def test_a_corrupt_database_is_refused_kept_and_restored(filled: Path, damage: str) -> None:
    """T18: three kinds of structural corruption."""
    info = store_backup.newest_verified(filled)
    assert info is not None
    size = filled.stat().st_size
    with filled.open("r+b") as stream:
        if damage == "zero-page":
            stream.seek((size // 4096 // 2) * 4096)
            stream.write(b"\0" * 4096)
        elif damage == "header":
            stream.write(b"\xff" * 16)
        else:
            stream.truncate(size - 4096 - 100)
    damaged = sha256(filled)
    with pytest.raises(DatabaseCorrupt) as refused:
        open_board(filled)
    message = str(refused.value)
    assert str(info.path) in message and "3 patients" in message
    assert refused.value.backup is not None and refused.value.backup.path == info.path
    assert sha256(filled) == damaged  # kept, untouched
    result = restore_database(filled, info.path)
    assert result.kept_aside is not None and sha256(result.kept_aside) == damaged
    assert ".corrupt-" in result.kept_aside.name
    restored = table_hashes(filled)
    for table, digest in table_hashes(info.path).items():  # the backup's content, back
        if table != "audit_event":
            assert restored[table] == digest, table
    with open_board(filled) as board:
        assert board.cases.count() == 3
        assert board.maintenance.check().ok


def test_restore_from_an_open_but_damaged_database(filled: Path) -> None:
    """T26: the database broke while the app had it open."""
    info = store_backup.newest_verified(filled)
    assert info is not None
    with open_board(filled) as board:
        board.database.engine.dispose()
        with filled.open("r+b") as stream:
            stream.seek(4096 * 2)
            stream.write(b"\0" * 4096 * 3)
        result = board.maintenance.restore(info.path)
        assert result.kept_aside is not None and result.safety_backup is None
        assert board.cases.count() == 3


# -- faults --------------------------------------------------------------------------------


def test_a_full_disk_fails_the_save_clearly_and_loses_nothing(
    filled: Path, monkeypatch: pytest.MonkeyPatch, upfront: dict[str, Any]
) -> None:
    """T12, portable variant: `PRAGMA max_page_count` caps the file at its current size."""
    import crlmboard.store.database as database

    real = database.apply_pragmas
    pages = {"limit": 0}

    def capped(connection: sqlite3.Connection, *, wal: bool = True) -> None:
        real(connection, wal=wal)
        if pages["limit"]:
            connection.execute(f"PRAGMA max_page_count = {pages['limit']}")

    monkeypatch.setattr(database, "apply_pragmas", capped)
    with raw(filled) as connection:
        pages["limit"] = connection.execute("PRAGMA page_count").fetchone()[0]
    before = table_hashes(filled)
    with open_board(filled) as board:
        big = copy.deepcopy(upfront)
        big["patient"]["mrn"] = "EX-0042"
        big["labs"] = big["labs"] * 400  # pages more than the last ones have room for
        case = case_from_dict(big, TODAY)
        with pytest.raises(BoardError, match=rf"disk holding {filled.parent} is full"):
            board.cases.create(case)
        assert board.cases.count() == 3
        pages["limit"] = 0
        board.database.engine.dispose()
        board.cases.create(case)  # space freed: the retry succeeds
        assert board.cases.count() == 4
    after = table_hashes(filled)
    assert after["lab_result"] != before["lab_result"]


def test_a_clean_close_leaves_no_wal(filled: Path) -> None:
    """T6."""
    with open_board(filled) as board:
        case, version = board.cases.get_with_version("EX-0001")
        board.cases.save(case.model_copy(update={"labs": []}), version)
        assert Path(f"{filled}-wal").exists()
    wal = Path(f"{filled}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_pragmas_on_every_connection(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T5: every connection to the database (pool, Alembic, backup, check, restore, upgrade)
    gets busy_timeout, foreign_keys, WAL and synchronous=FULL."""
    import crlmboard.store.database as database

    real = database.apply_pragmas
    checked: list[tuple[Any, ...]] = []

    def spy(connection: sqlite3.Connection, *, wal: bool = True) -> None:
        real(connection, wal=wal)
        names = [row[2] for row in connection.execute("PRAGMA database_list")]
        checked.append(
            (
                names[0],
                connection.execute("PRAGMA busy_timeout").fetchone()[0],
                connection.execute("PRAGMA foreign_keys").fetchone()[0],
                connection.execute("PRAGMA synchronous").fetchone()[0],
                connection.execute("PRAGMA journal_mode").fetchone()[0],
                wal,
            )
        )

    monkeypatch.setattr(database, "apply_pragmas", spy)
    with open_board(db_path) as board:
        board.cases.import_path(GOLDEN)
        info = board.maintenance.backup()
        board.maintenance.check()
        board.maintenance.restore(info.path)
    assert len(checked) >= 5
    for name, busy, keys, synchronous, journal, wal in checked:
        assert busy >= 5000 and keys == 1 and synchronous == 2, name
        assert journal == "wal" or not wal, name


def test_sqlite_files_and_folders_are_private(tmp_path: Path) -> None:
    """T17 (database, -wal, -shm, lock, backups, manifests; folders 0700) under umask 022."""
    old = os.umask(0o022)
    try:
        path = tmp_path / "data" / "board.sqlite3"
        with Board.open(path, clock=lambda: TODAY) as board:
            board.cases.import_path(GOLDEN)
            info = board.maintenance.backup()
            files = [
                path,
                Path(f"{path}-wal"),
                Path(f"{path}-shm"),
                store_lock.lock_path(path),
                info.path,
                store_backup.manifest_path(info.path),
            ]
            for file in files:
                assert file.stat().st_mode & 0o777 == 0o600, file
        for folder in (path.parent, info.path.parent):
            assert folder.stat().st_mode & 0o777 == 0o700, folder
    finally:
        os.umask(old)


def test_log_files_are_private_after_rotation(tmp_path: Path) -> None:
    """T17 for logs: the log and the files rotation starts are 0600."""
    import logging

    from crlmboard.services.log import PrivateLogFile

    old = os.umask(0o022)
    try:
        handler = PrivateLogFile(
            tmp_path / "crlmboard.log", maxBytes=200, backupCount=2, encoding="utf-8"
        )
        for i in range(60):
            handler.emit(
                logging.LogRecord(
                    "crlmboard", logging.INFO, __file__, 1, "operation %d done", (i,), None
                )
            )
        handler.close()
    finally:
        os.umask(old)
    files = sorted(tmp_path.glob("crlmboard.log*"))
    assert len(files) == 3
    for file in files:
        assert file.stat().st_mode & 0o777 == 0o600, file


# -- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_board_on_postgresql_audits_protects_signed_reviews_and_checks(
    tmp_path: Path, upfront: dict[str, Any]
) -> None:
    """The services' data-safety behaviour on a real PostgreSQL server."""
    from tests.conftest import postgres_url
    from tests.store.conftest import fresh_postgres

    fresh_postgres().dispose()
    upfront["reviews"] = [SIGNED]
    with Board.open(postgres_url(), clock=lambda: TODAY) as board:
        assert not board.read_only and board.database.lock is None
        assert board.cases.import_path(GOLDEN).ok
        board.cases.import_path(write_document(tmp_path, upfront), replace=True)
        case, version = board.cases.get_with_version("EX-0001")
        changed = case.reviews[0].model_copy(update={"decision": "Do not resect."})
        with pytest.raises(SignedReviewLocked):
            board.cases.save(case.model_copy(update={"reviews": [changed]}), version)
        board.cases.save(case.model_copy(update={"labs": []}), version)
        history = board.maintenance.case_history("EX-0001")
        assert {e.app_user for e in history} == {"crlmboard"}  # the session user
        assert "refused" in [e.action for e in history]
        report = board.maintenance.check()
        assert report.ok, report.problems
        # chain rows: a case's changes in one transaction share a row
        assert report.audit_rows == len({e.seq for e in history}) + sum(
            len({e.seq for e in board.maintenance.case_history(m)}) for m in ("EX-0002", "EX-0003")
        )
        with pytest.raises(BoardError, match="pg_dump"):
            board.maintenance.backup()
        assert board.maintenance.list_backups() == []
