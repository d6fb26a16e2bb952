"""The command line: parse, call the Board, print.  No logic of its own.

Exit status 0 on success, 2 on bad input (reasons on stderr, one per line), 1 otherwise;
a traceback goes to the log file, never to the terminal.

Parsing needs only the standard library: each command imports what it uses when it runs
(`crlmboard --version` never loads SQLAlchemy, pydantic or the domain; `crlmboard evaluate`
never loads the store).  Keep it so: no data-layer import at the top of this module.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crlmboard.services.log import log_path, setup_logging

if TYPE_CHECKING:
    from crlmboard.services.board import Board
    from crlmboard.services.cases import ImportSummary

log = logging.getLogger("crlmboard.cli")

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """Bad input from the command line; the message says what is wrong."""


def _db(args: argparse.Namespace) -> str | None:
    value: str | None = getattr(args, "db", None) or os.environ.get("CRLMBOARD_DB") or None
    return value


def _ask(prompt: str) -> str | None:
    """A secret typed at the terminal (never echoed); None without a terminal."""
    if not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass(prompt)


class _UpgradeProgress:
    """An upgrade's progress on stderr (T30): a line per step, and for a step that counts
    (pages copied, records recorded) a line at every tenth of the way."""

    def __init__(self) -> None:
        self.step = ""
        self.tenth = -1

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self.step:
            self.step, self.tenth = step, -1
            if total <= 0 or done < total:
                _err(f"upgrade: {step}")
        if total > 0:
            tenth = min(10, done * 10 // total)
            if tenth > self.tenth and (tenth > 0 or done == total):
                self.tenth = tenth
                _err(f"upgrade: {step}: {tenth * 10} %")


def _open(args: argparse.Namespace) -> Board:
    """The database of `--db` (never a new one: that is `init`'s or `demo`'s), logging in
    as needed: a server password comes from libpq (PGPASSWORD, ~/.pgpass) or a prompt; an
    encrypted file's passphrase from $CRLMBOARD_PASSPHRASE, the OS keyring (when chosen) or
    a prompt.  Neither is printed, logged or kept."""
    from crlmboard.services.board import Board
    from crlmboard.services.demo import default_demo_database
    from crlmboard.services.maintenance import DatabaseMissing, LoginRequired, PassphraseRequired

    # A command holds the one-writer lock only while it writes, waiting a little for it.
    wait = float(os.environ.get("CRLMBOARD_LOCK_WAIT") or 10)
    password: str | None = None
    passphrase = os.environ.get("CRLMBOARD_PASSPHRASE") or None
    for _attempt in range(4):
        try:
            board = Board.open(
                _db(args),
                exclusive=False,
                wait=wait,
                create=False,
                password=password,
                passphrase=passphrase,
                # quick_check and the open-time backup wait for the command's first
                # write: a read-only command never waits for them (performance.md)
                defer_checks=True,
                progress=_UpgradeProgress(),
            )
        except DatabaseMissing as error:
            demo = default_demo_database()
            if _db(args) is None and demo.exists():
                raise DatabaseMissing(
                    f"{error} The demo database is another file: add --db {demo}"
                ) from None
            raise
        except LoginRequired as error:
            password = _ask(f"{error} Password: ")
            if password is None:
                raise LoginRequired(
                    f"{error} Set PGPASSWORD, use ~/.pgpass, or run the command at a terminal."
                ) from None
        except PassphraseRequired as error:
            passphrase = _ask(f"{error} Passphrase: ")
            if passphrase is None:
                raise PassphraseRequired(
                    f"{error} Set CRLMBOARD_PASSPHRASE or run the command at a terminal."
                ) from None
        else:
            from crlmboard.services.database import location_warning

            warning = location_warning(_db(args))
            if warning:  # a network share or a sync folder (T16): said on every command
                print(f"warning: {warning}", file=sys.stderr)
            return board
    raise BadInput("Too many attempts to log in.")


def cmd_init(args: argparse.Namespace) -> int:
    from crlmboard.services.board import init_database
    from crlmboard.services.maintenance import LoginRequired

    try:
        board = init_database(_db(args))
    except LoginRequired as error:
        password = _ask(f"{error} Password: ")
        if password is None:
            raise LoginRequired(
                f"{error} Set PGPASSWORD, use ~/.pgpass, or run the command at a terminal."
            ) from None
        board = init_database(_db(args), password=password)
    try:
        _out(f"Created the database {board.location} (id {board.maintenance.database_id()}).")
        from crlmboard.services.database import location_warning

        warning = location_warning(_db(args))
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    finally:
        board.close()
    return EXIT_OK


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


# -- commands ---------------------------------------------------------------------------


def cmd_app(args: argparse.Namespace) -> int:
    from crlmboard.app import run_app

    return run_app(_db(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from crlmboard.services.demo import create_demo_database

    wait = float(os.environ.get("CRLMBOARD_LOCK_WAIT") or 0)
    board, summary = create_demo_database(_db(args), wait=wait)
    for file, problems in summary.refused:
        for problem in problems:
            _err(f"{file}: {problem}")
    _out(f"Demo database {board.location}: {len(summary.imported)} cases.")
    for note in board.notes:
        _out(note)
    _out(f"Use it from the command line with --db {board.location}")
    _out(f"  (for example: crlmboard list --db {board.location})")
    board.close()
    if summary.refused:
        return EXIT_ERROR
    if args.no_open:
        return EXIT_OK
    from crlmboard.app import run_app

    return run_app(board.url)


def cmd_import(args: argparse.Namespace) -> int:
    if args.preview:
        return _preview_import(args)

    from crlmboard.services.cases import ImportStopped

    with _open(args) as board:
        try:
            summary = board.cases.import_path(args.path, replace=args.replace)
        except ImportStopped as stopped:
            summary = stopped.summary
            _print_import(summary)
            _err(f"{len(summary.not_stored)} files NOT stored:")
            for file, why in summary.not_stored:
                _err(f"  {file} ({why})")
            _err(str(stopped))
            return EXIT_ERROR
    _print_import(summary)
    _out(f"{len(summary.imported)} imported, {len(summary.refused)} refused.")
    if summary.internal_errors:
        return EXIT_ERROR
    return EXIT_OK if summary.ok else EXIT_BAD_INPUT


def _print_import(summary: ImportSummary) -> None:
    for file, mrn in summary.imported:
        _out(f"imported {mrn} from {file}")
    for file, notes in summary.notes:
        _out(f"notes on {file}:")
        for note in notes:
            _out(f"  {note}")
    for file, problems in summary.refused:
        _err(f"refused {file}:")
        for problem in problems:
            _err(f"  {problem}")


def _preview_import(args: argparse.Namespace) -> int:
    """What an import of one bundle or referral CSV would do, item by item; nothing written."""
    from crlmboard.domain.validation import InvalidInput

    path = Path(args.path)
    if not path.is_file():
        _err(f"{path}: not a file (a preview reads one bundle or one referral CSV)")
        return EXIT_BAD_INPUT
    with _open(args) as board:
        try:
            if path.suffix.lower() == ".csv":
                preview = board.interop.preview_referrals(path)
                for note in preview.notes:
                    _out(note)
                for row in preview.rows:
                    _out(f"row {row.row} ({row.mrn}): {row.action} {sorted(row.fields)}")
                _out(f"{preview.creates} to create, {preview.updates} to update; nothing written.")
                return EXIT_OK
            case, notes = board.interop.preview_bundle(path)
        except InvalidInput as error:
            _err(f"refused {path}:")
            for problem in error.problems:
                _err(f"  {problem}")
            return EXIT_BAD_INPUT
    _out(f"{path}: the case {case.mrn} would be imported")
    if notes:
        _out(f"not imported ({len(notes)}):")
        for note in notes:
            _out(f"  {note}")
    else:
        _out("everything in the bundle is mapped")
    _out("nothing written (preview)")
    return EXIT_OK


def cmd_mrn_system(args: argparse.Namespace) -> int:
    from crlmboard.domain.validation import InvalidInput

    with _open(args) as board:
        if args.system is not None:
            try:
                board.interop.set_mrn_system(args.system)
            except InvalidInput as error:
                for problem in error.problems:
                    _err(str(problem))
                return EXIT_BAD_INPUT
        _out(board.interop.mrn_system())
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with _open(args) as board:
        if args.output == "-":
            sys.stdout.write(board.cases.export_text(args.mrn))
            return EXIT_OK
        target = board.cases.export(args.mrn, args.output)
    _out(f"exported the case to {target}")  # no MRN in what a command prints (T35)
    return EXIT_OK


def cmd_fhir(args: argparse.Namespace) -> int:
    with _open(args) as board:
        if args.output == "-":
            sys.stdout.write(board.interop.fhir_text(args.mrn))
            return EXIT_OK
        target = board.interop.write_fhir(args.mrn, args.output)
    _out(f"wrote the mCODE bundle to {target}")  # no MRN in what a command prints (T35)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as board:
        today = board.today()
        rows = board.cases.page(
            args.query or "", sort=args.sort, descending=args.descending, limit=args.limit
        )
        total = board.cases.count(args.query or "")
    if args.json:
        import json

        _out(
            json.dumps(
                [
                    {
                        "mrn": r.mrn,
                        "family_name": r.family_name,
                        "given_name": r.given_name,
                        "birth_date": r.birth_date.isoformat() if r.birth_date else None,
                        "next_meeting": r.next_meeting.isoformat() if r.next_meeting else None,
                        "resectability": r.resectability,
                        "current_response": r.current_response,
                        "open_warnings": r.open_warnings,
                        "open_criticals": r.open_criticals,
                    }
                    for r in rows
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    header = f"{'MRN':<16} {'Name':<32} {'Age':>3}  {'Next meeting':<12}  {'Resectability':<13}"
    _out(header + "  Resp  Crit  Warn")
    for r in rows:
        name = ", ".join(x for x in ((r.family_name or "").upper(), r.given_name or "") if x)
        age = ""
        if r.birth_date:
            age = str(
                today.year
                - r.birth_date.year
                - ((today.month, today.day) < (r.birth_date.month, r.birth_date.day))
            )
        meeting = r.next_meeting.isoformat() if r.next_meeting else ""
        _out(
            f"{r.mrn:<16} {name[:32]:<32} {age:>3}  {meeting:<12}  {r.resectability or '':<13}"
            f"  {r.current_response or '':<4}  {r.open_criticals:>4}  {r.open_warnings:>4}"
        )
    _out(f"{len(rows)} of {total} cases")
    return EXIT_OK


def cmd_screenshots(args: argparse.Namespace) -> int:
    if args.look:  # one look, in the process take_all started for it
        from crlmboard.ui.screenshots import take_look

        return take_look(Path(args.outdir), args.look)
    from crlmboard.ui.screenshots import take_all

    for path in take_all(Path(args.outdir)):
        _out(str(path))
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    import gc

    # Loading the case models and the engine makes tens of thousands of objects that live
    # as long as the process; the collector's passes over them while they load find nothing
    # to free and cost about 3 % of the command (performance.md B10).  The collector runs
    # again as soon as they are loaded.
    gc.disable()
    try:
        from crlmboard.services.evaluation import evaluate_file
    finally:
        gc.freeze()  # what is loaded stays: later passes look at the case's objects only
        gc.enable()

    try:
        as_of = args.as_of or date.today()
        sys.stdout.write(evaluate_file(args.file, as_of, args.profile))
    finally:
        gc.unfreeze()  # given back: `main` may be called in a process that goes on
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from crlmboard.services.evaluation import load_profile, rule_catalogue, rule_catalogue_json

    profile = load_profile(args.profile)
    if args.json:
        sys.stdout.write(rule_catalogue_json(profile))
        return EXIT_OK
    _out(f"Rule catalogue — profile {profile.name} (sha256 {profile.sha256[:12]})")
    for rule in rule_catalogue(profile):
        _out("")
        _out(f"{rule['id']}  [{rule['severity']}]  {rule['title']}")
        _out(f"  {rule['description']}")
        for key in rule["profile_keys"]:
            unit = f" {key['unit']}" if key.get("unit") else ""
            _out(f"  threshold {key['key']} = {key['value']:g}{unit}")
        for source in rule["sources"]:
            _out(f"  [{source['key']}] {source['reference']}")
    return EXIT_OK


def _review_index(number: int | None) -> int | None:
    """`--review N` counts from 1; the services count from 0."""
    if number is None:
        return None
    if number < 1:
        raise BadInput(f"--review {number}: reviews are numbered from 1.")
    return number - 1


def cmd_pdf(args: argparse.Namespace) -> int:
    from crlmboard.services.reports import ReviewNotSigned

    page_size = "letter" if args.letter_size else "A4"
    with _open(args) as board:
        try:
            target = board.reports.write_case_summary(
                args.mrn, args.output, _review_index(args.review), page_size=page_size
            )
        except ReviewNotSigned as error:
            raise BadInput(str(error)) from None
    _out(f"wrote the case summary to {target}")  # no MRN in what a command prints (T35)
    return EXIT_OK


def cmd_letter(args: argparse.Namespace) -> int:
    from crlmboard.services.reports import ReviewNotSigned

    page_size = "letter" if args.letter_size else "A4"
    index = _review_index(args.review)
    assert index is not None
    with _open(args) as board:
        try:
            target = board.reports.write_letter(args.mrn, index, args.output, page_size=page_size)
        except ReviewNotSigned as error:
            raise BadInput(str(error)) from None
    _out(f"wrote the outcome letter to {target}")  # no MRN in what a command prints (T35)
    return EXIT_OK


def cmd_meetings(args: argparse.Namespace) -> int:
    with _open(args) as board:
        meetings = board.meetings.list()
        for meeting in meetings:
            q = board.meetings.quorum(meeting)
            where = f" {meeting.fields.time or ''} {meeting.fields.location or ''}".rstrip()
            _out(
                f"{meeting.date.isoformat()}{where} — {len(meeting.agenda)} case(s); core "
                f"roles {len(q.present)}/{len(q.present) + len(q.missing)}"
                + (
                    f" (missing: {', '.join(r.replace('_', ' ') for r in q.missing)})"
                    if q.missing
                    else ""
                )
            )
            for entry in meeting.agenda:
                _out(f"  {entry.position + 1}. {entry.mrn} [{entry.status}] {entry.question}")
    return EXIT_OK


def cmd_meeting_pack(args: argparse.Namespace) -> int:
    from crlmboard.services.cases import write_file_atomically

    page_size = "letter" if args.letter_size else "A4"
    with _open(args) as board:
        meeting = board.meetings.on_date(args.date)
        data = board.meetings.meeting_pack(meeting.id, page_size=page_size)
    target = write_file_atomically(Path(args.output), data)
    _out(f"wrote the meeting pack of {args.date.isoformat()} to {target}")
    return EXIT_OK


def cmd_figures(args: argparse.Namespace) -> int:
    from crlmboard.services.cases import write_file_atomically

    with _open(args) as board:
        text = board.meetings.figures_csv(args.start, args.end)
    if args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    target = write_file_atomically(Path(args.output), text.encode("utf-8"))
    _out(f"wrote the board figures {args.start} to {args.end} to {target}")
    return EXIT_OK


def cmd_version(_args: argparse.Namespace) -> int:
    from crlmboard.services.about import sqlite_warning, versions

    info = versions()
    try:
        import PySide6

        info["qt"] = PySide6.__version__
    except ImportError:  # pragma: no cover - PySide6 is a dependency
        info["qt"] = "not installed"
    _out(f"crlmboard {info['crlmboard']}")
    _out(f"schema {info['schema']}")
    _out(f"Python {info['python']}")
    _out(f"Qt (PySide6) {info['qt']}")
    _out(f"SQLite {info['sqlite']}")
    warning = sqlite_warning()
    if warning:
        _out(f"warning: {warning}")
    return EXIT_OK


# -- data safety (services/maintenance.py) ----------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    def progress(step: str, done: int, total: int) -> None:
        if not args.quiet:
            _err(f"checking: {step}" + (f" {done}" if done and not total else ""))

    with _open(args) as board:
        report = board.maintenance.check(progress=progress, since_checkpoint=args.since_checkpoint)
    for line in report.lines():
        _out(line)
    return EXIT_OK if report.ok else EXIT_ERROR


def cmd_backup(args: argparse.Namespace) -> int:
    with _open(args) as board:
        info = board.maintenance.backup(args.output)
    from crlmboard.services.maintenance import describe_backup

    _out(f"backup {describe_backup(info)}" + ("" if info.verified else " FAILED VERIFICATION"))
    return EXIT_OK if info.verified else EXIT_ERROR


def cmd_backups(args: argparse.Namespace) -> int:
    from crlmboard.services.maintenance import describe_backup

    with _open(args) as board:
        found = board.maintenance.list_backups()
        paused = board.maintenance.rotation_paused()
    for info in found:
        state = "verified" if info.verified else f"FAILED VERIFICATION: {info.problem}"
        _out(f"{describe_backup(info)}  {info.reason or ''}  {state}")
    _out(f"{len(found)} backups" + ("; rotation paused after a restore" if paused else ""))
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    from crlmboard.services.maintenance import describe_backup

    confirm = args.confirm
    if confirm is None:
        if not sys.stdin.isatty():
            raise BadInput(
                "crlmboard erase: confirm with --confirm MRN (the MRN typed again); "
                "nothing was erased."
            )
        confirm = input("Erasing cannot be undone. Type the MRN again to confirm: ")
    with _open(args) as board:
        result = board.erasure.erase(
            args.mrn,
            reason=args.reason,
            confirm_mrn=confirm,
            including_signed=args.including_signed_reviews,
        )
    records = sum(result.records.values())
    _out(
        f"Erased one case (erasure {result.erasure_id}): {records} records deleted, the "
        f"values of {result.audit_rows} audit row(s) wiped; the audit trail records the "
        "erasure without the patient's name or MRN."
    )
    if result.new_backup is not None:
        state = "verified" if result.new_backup.verified else "FAILED VERIFICATION"
        _out(f"New backup without the patient: {describe_backup(result.new_backup)} ({state})")
    if result.older_backups:
        _out("Older backups that still hold this patient:")
        for older in result.older_backups:
            _out(f"  {older.sentence()}")
    for note in result.notes:
        _out(note)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from crlmboard.services.maintenance import PassphraseRequired, restore_database

    passphrase = os.environ.get("CRLMBOARD_PASSPHRASE") or None
    try:
        result = restore_database(
            _db(args), args.file, other_database=args.other_database, passphrase=passphrase
        )
    except PassphraseRequired as error:
        passphrase = _ask(f"{error} Passphrase: ")
        if passphrase is None:
            raise
        result = restore_database(
            _db(args), args.file, other_database=args.other_database, passphrase=passphrase
        )
    _out(f"restored {result.restored}")
    if result.safety_backup:
        _out(f"the state before the restore is backed up as {result.safety_backup}")
    if result.kept_aside:
        _out(f"the damaged database is kept as {result.kept_aside}")
    for note in result.notes:
        _out(note)
    _out("Automatic thinning of backups is paused until the restore is confirmed in the app.")
    return EXIT_OK


# -- encryption at rest ---------------------------------------------------------------------


def _new_passphrase(args: argparse.Namespace) -> str:
    """A new passphrase: one line of standard input with --passphrase-stdin, else typed twice
    at the terminal.  Never an argument."""
    if args.passphrase_stdin:
        passphrase = sys.stdin.readline().rstrip("\r\n")
        if not passphrase:
            raise BadInput("No passphrase on standard input.")
        return passphrase
    first = _ask("New passphrase: ")
    if first is None:
        raise BadInput("Type the new passphrase at a terminal, or give it with --passphrase-stdin.")
    if _ask("The same passphrase again: ") != first:
        raise BadInput("The two passphrases differ; nothing was changed.")
    return first


def _current_passphrase() -> str:
    passphrase = os.environ.get("CRLMBOARD_PASSPHRASE") or _ask(
        "The database's current passphrase: "
    )
    if not passphrase:
        raise BadInput("Give the current passphrase at a terminal or in CRLMBOARD_PASSPHRASE.")
    return passphrase


def cmd_encrypt(args: argparse.Namespace) -> int:
    from crlmboard.services.maintenance import PASSPHRASE_WARNING, encrypt_database

    if args.remember:
        from crlmboard.services.credentials import keyring_available

        if not keyring_available():
            raise BadInput(
                "There is no OS keyring here to keep the passphrase in; nothing was changed."
            )
    _err(PASSPHRASE_WARNING)
    passphrase = _new_passphrase(args)
    done = encrypt_database(_db(args), passphrase)
    _out(f"encrypted the database and {done} backups with SQLCipher")
    if args.remember:
        from crlmboard.services.maintenance import remember_passphrase

        remember_passphrase(_db(args), passphrase)
        _out("the passphrase is kept in the OS keyring for this account")
    _out(
        "Backups written elsewhere before (crlmboard backup -o FILE) are not encrypted: "
        "delete them or keep them encrypted yourself."
    )
    return EXIT_OK


def cmd_rekey(args: argparse.Namespace) -> int:
    from crlmboard.services.maintenance import PASSPHRASE_WARNING, rekey_database

    current = _current_passphrase()
    _err(PASSPHRASE_WARNING)
    done = rekey_database(_db(args), current, _new_passphrase(args))
    _out(f"changed the passphrase of the database and of {done} backups")
    return EXIT_OK


# -- who is who (services/users.py) ------------------------------------------------------


def _new_password(args: argparse.Namespace) -> str | None:
    """The new user's password: None with --no-password, one line of standard input with
    --password-stdin, else typed twice at the terminal.  Never an argument."""
    if args.no_password:
        return None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise BadInput("No password on standard input.")
        return password
    first = _ask(f"Password for the new user {args.login}: ")
    if first is None:
        raise BadInput(
            "Give the new user's password at a terminal, or on standard input with "
            "--password-stdin (or --no-password for a Kerberos/LDAP login)."
        )
    if _ask("The same password again: ") != first:
        raise BadInput("The two passwords differ; nothing was changed.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    with _open(args) as board:
        if args.action == "list":
            for user in board.users.list():
                state = "active" if user.can_login else "DISABLED"
                _out(f"{user.login}\t{user.name}\t{','.join(user.roles)}\t{state}")
            return EXIT_OK
        if args.action == "add":
            if not args.role:
                raise BadInput("Give the new user a role with --role.")
            board.users.add(args.login, args.name or args.login, args.role, _new_password(args))
            _out(f"added {args.login} ({', '.join(args.role)})")
        elif args.action == "disable":
            board.users.disable(args.login)
            _out(f"disabled {args.login}: the login can no longer connect")
        elif args.action == "enable":
            board.users.enable(args.login)
            _out(f"enabled {args.login}")
    return EXIT_OK


def cmd_whoami(args: argparse.Namespace) -> int:
    with _open(args) as board:
        who = board.identity
    _out(f"{who.login}\t{who.name}\t{who.role_text}")
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------


class _NotOnThisLine:
    """The options of a command not on this command line: not built (`crlmboard
    evaluate` and the app's start are kept light, performance.md B1, B10)."""

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        pass


def command_on_line(argv: Sequence[str]) -> str | None:
    """The command a command line names (its first word that is not an option or the
    value of `--db`); "" for none (the app); None when help is asked for before it (every
    command's options are built then, for the full help)."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return None
        if word == "--db":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser, with only the command `argv` names (every command
    without `argv`, or for the full help; every name, for a misspelt command's message):
    each command costs argparse a parser and each option a help formatter."""
    only = None if argv is None else command_on_line(argv)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        metavar="URL_OR_PATH",
        default=argparse.SUPPRESS,
        help="database: a SQLite file path or an SQLAlchemy URL "
        "(default: $CRLMBOARD_DB, else the per-user database)",
    )
    parser = argparse.ArgumentParser(
        prog="crlmboard",
        parents=[db],
        description="Case manager for tumor boards treating colorectal liver metastases.",
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the app, schema, Python, Qt and SQLite versions",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    others: list[tuple[str, str]] = []  # the commands not on the line, by name and help

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> Any:
        if only is not None and name != only:
            others.append((name, help_text))
            return _NotOnThisLine()
        p = sub.add_parser(name, parents=[db], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    command(
        "init",
        cmd_init,
        "create a new, empty database (the only command that does; others refuse a "
        "missing database)",
    )
    p = command("demo", cmd_demo, "create a fresh demo database and open the app on it")
    p.add_argument("--no-open", action="store_true", help="stop after creating it")
    p = command("import", cmd_import, "import case files, mCODE bundles or a referral CSV")
    p.add_argument(
        "path",
        help="a crlmboard.case/1 JSON file, an mCODE bundle (JSON), a "
        "referral CSV, or a folder of JSON files",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="update cases that already exist (their reviews are kept)",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="show what one bundle or referral CSV would import, item by item, and what "
        "it would leave out; write nothing",
    )
    p = command("export", cmd_export, "export a case as a crlmboard.case/1 file")
    p.add_argument("mrn")
    p.add_argument("-o", "--output", required=True, help="file to write ('-' for stdout)")
    p = command("fhir", cmd_fhir, "export a case as an mCODE (FHIR R4) bundle")
    p.add_argument("mrn")
    p.add_argument("-o", "--output", required=True, help="file to write ('-' for stdout)")
    p = command(
        "mrn-system",
        cmd_mrn_system,
        "show or set this site's MRN identifier system for mCODE bundles",
    )
    p.add_argument("system", nargs="?", help="an http(s) URL or urn:oid:… of the hospital's MRNs")
    p = command("list", cmd_list, "list cases, filtered by MRN or name")
    p.add_argument("query", nargs="?", default="")
    p.add_argument(
        "--sort",
        default="name",
        choices=["mrn", "name", "age", "next_meeting", "resectability", "response", "warnings"],
    )
    p.add_argument("--descending", action="store_true")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command(
        "evaluate",
        cmd_evaluate,
        "print the guideline engine's evaluation of a case file (no database)",
    )
    p.add_argument("file")
    p.add_argument(
        "--as-of",
        type=_parse_date,
        metavar="DATE",
        help="evaluate as of this date (default: today)",
    )
    p.add_argument("--profile", metavar="FILE", help="institution profile (TOML)")
    p = command("rules", cmd_rules, "show the rule catalogue")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--profile", metavar="FILE", help="institution profile (TOML)")
    p = command("pdf", cmd_pdf, "write a case's tumor-board summary as PDF")
    p.add_argument("mrn")
    p.add_argument(
        "--review",
        type=int,
        metavar="N",
        help="the summary of the case's N-th review (1 = the first; default: the "
        "current evaluation, with the latest signed review)",
    )
    p.add_argument("--letter-size", action="store_true", help="US Letter pages (default A4)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="PDF file to write")
    p = command(
        "letter", cmd_letter, "write the outcome letter of a signed review as PDF (one page)"
    )
    p.add_argument("mrn")
    p.add_argument(
        "--review",
        type=int,
        metavar="N",
        required=True,
        help="the case's N-th review (1 = the first); it must be signed",
    )
    p.add_argument("--letter-size", action="store_true", help="US Letter pages (default A4)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="PDF file to write")
    command("meetings", cmd_meetings, "list meetings (upcoming first) with their agendas")
    p = command(
        "meeting-pack",
        cmd_meeting_pack,
        "write the meeting pack (cover, agenda, every case's summary) as PDF",
    )
    p.add_argument("date", type=_parse_date, help="the meeting's date, YYYY-MM-DD")
    p.add_argument("--letter-size", action="store_true", help="US Letter pages (default A4)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="PDF file to write")
    p = command("figures", cmd_figures, "board figures of a period as CSV")
    p.add_argument("--from", dest="start", type=_parse_date, required=True, metavar="DATE")
    p.add_argument("--to", dest="end", type=_parse_date, required=True, metavar="DATE")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE.csv",
        help="CSV file to write ('-' for stdout)",
    )
    p = command(
        "screenshots",
        cmd_screenshots,
        "write PNGs of every view and dialog on a fresh demo database, at 100 %% and 200 %% "
        "and in a dark palette (for review)",
    )
    p.add_argument("outdir")
    p.add_argument("--look", choices=("light", "200", "dark"), help=argparse.SUPPRESS)
    p = command(
        "check",
        cmd_check,
        "check the database: integrity, foreign keys, audit "
        "trail, signed reviews (exit 1 on any problem)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--since-checkpoint",
        action="store_true",
        help="quick check: verify the checkpoints and only the audit rows after the newest "
        "signed one (no SQLite checks, no records against the trail)",
    )
    p = command("backup", cmd_backup, "back up the database now")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the backup to FILE (default: the backups folder beside it)",
    )
    command("backups", cmd_backups, "list the database's backups, newest first")
    p = command(
        "restore",
        cmd_restore,
        "replace the database with a backup (the current state is backed up first)",
    )
    p.add_argument("file", help="a backup file (see `crlmboard backups`)")
    p.add_argument(
        "--other-database",
        action="store_true",
        help="allow a backup of another database (by default refused)",
    )
    p = command(
        "erase",
        cmd_erase,
        "erase one patient for good: the case, its reviews and agenda entries, and the "
        "values of its audit rows (refused for signed reviews; SQLite: the file's owner, "
        "PostgreSQL: the schema owner)",
    )
    p.add_argument("mrn", help="the MRN of the case to erase")
    p.add_argument(
        "--reason",
        help="why (kept in the audit trail; must not name the patient)",
    )
    p.add_argument("--confirm", metavar="MRN", help="the MRN typed again (else asked)")
    p.add_argument(
        "--including-signed-reviews",
        action="store_true",
        help="erase a case with signed reviews too (only where no retention duty applies)",
    )
    p = command(
        "encrypt",
        cmd_encrypt,
        "encrypt a SQLite database and its backups with a passphrase (SQLCipher)",
    )
    p.add_argument(
        "--passphrase-stdin", action="store_true", help="read the passphrase from standard input"
    )
    p.add_argument("--remember", action="store_true", help="keep the passphrase in the OS keyring")
    p = command(
        "rekey",
        cmd_rekey,
        "change the passphrase of an encrypted database and its backups "
        "(the current one from $CRLMBOARD_PASSPHRASE or a prompt)",
    )
    p.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the new passphrase from standard input",
    )
    p = command("users", cmd_users, "users of a department's PostgreSQL store (admins)")
    p.add_argument("action", choices=["list", "add", "disable", "enable"])
    p.add_argument("login", nargs="?", help="the user's login name (add, disable, enable)")
    p.add_argument(
        "--role",
        action="append",
        choices=["viewer", "coordinator", "clinician", "admin"],
        help="the user's role (add; may be given twice, e.g. clinician and admin)",
    )
    p.add_argument("--name", help="the printed name signatures show (add; default: login)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument(
        "--no-password",
        action="store_true",
        help="no password: the server authenticates the login otherwise (Kerberos, LDAP)",
    )
    command("whoami", cmd_whoami, "who the database says you are, and your role")
    command("app", cmd_app, "open the app (the default)")
    if only and only not in sub.choices:  # a misspelt command: the message lists them all
        for name, help_text in others:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    setup_logging()
    for stream in (sys.stdout, sys.stderr):  # names and "≥" print on any console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.version:
        return cmd_version(args)
    if getattr(args, "command", None) == "users" and args.action != "list" and not args.login:
        _err(f"crlmboard users {args.action}: give the user's login name.")
        return EXIT_BAD_INPUT
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", cmd_app)
    try:
        return func(args)
    except KeyboardInterrupt:
        _err("Stopped.")
        return EXIT_ERROR
    except Exception as error:
        return _failed(error, args)


def _failed(error: Exception, args: argparse.Namespace) -> int:
    """The exit status of a command that raised, its message on stderr (the classes are
    imported here, not at start, so that parsing stays light)."""
    from crlmboard.domain.validation import InvalidInput
    from crlmboard.services.changes import BoardError

    if isinstance(error, InvalidInput):
        for problem in error.problems:
            _err(str(problem))
        return EXIT_BAD_INPUT
    if isinstance(error, BadInput | argparse.ArgumentTypeError):
        _err(str(error))
        return EXIT_BAD_INPUT
    if isinstance(error, BoardError):
        from crlmboard.services.maintenance import (
            LoginFailed,
            LoginRequired,
            PassphraseRequired,
            WrongPassphrase,
        )

        _err(str(error))
        refused = (LookupError, ValueError, LoginFailed, LoginRequired)
        bad_input = isinstance(error, (*refused, PassphraseRequired, WrongPassphrase))
        return EXIT_BAD_INPUT if bad_input else EXIT_ERROR
    if isinstance(error, BrokenPipeError):  # e.g. `crlmboard list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    if isinstance(error, OSError) and error.filename is not None:
        # a file or folder named on the command line (-o, an import path): bad input
        why = error.strerror or type(error).__name__
        _err(f"{error.filename}: {why}; nothing was done.")
        return EXIT_BAD_INPUT
    log.error("command %s failed", getattr(args, "command", None), exc_info=error)
    _err(f"Something went wrong; the details are in {log_path()}.")
    return EXIT_ERROR


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
