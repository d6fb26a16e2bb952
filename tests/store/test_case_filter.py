"""The case-list filter: every word of the query, folded (case and accents), must be a
substring of the case's MRN or names.  On SQLite, words of three characters or more are
looked up in the trigram index of migration 0005 (FTS5); what it finds — counts, pages,
their order — must be exactly what `LIKE '%word%'` on every row finds, for any text
(diacritics, Cyrillic, Greek, CJK, 1–2-character words, `%`, `_`, quotes).  PostgreSQL
keeps LIKE."""

from __future__ import annotations

import shutil
import sqlite3
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crlmboard.domain.caseformat import case_from_dict
from crlmboard.services import Board
from crlmboard.store import migrate, search_index
from crlmboard.store import repositories as r
from crlmboard.store.database import (
    create_database_engine,
    database_url,
    read_session,
    write_session,
)
from crlmboard.store.repositories import CaseRepository, CaseSummary

pytestmark = pytest.mark.db
TODAY = date(2026, 11, 24)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

NFD_ODON = unicodedata.normalize("NFD", "Ödön")
# (family name, given name): Latin with diacritics (NFC and NFD), German ß, Turkish dotted
# and dotless i, Cyrillic, Greek (final sigma), CJK, Arabic, Hebrew, an emoji sequence, short
# names, FTS5 and LIKE syntax inside names, unknown names.
NAMES: list[tuple[str | None, str | None]] = [
    ("Horváth", "Ivan"),
    ("Horvath", "Iván"),
    ("Nguyễn", "Văn An"),
    ("Müller", "Jürgen"),
    ("Muller", "Anna"),
    ("Straße", "Hans"),
    ("STRASSE", "Eva"),
    ("Øster", "Åse"),
    ("Ærø", "Bjørn"),
    ("Çelik", "Ayşe"),
    ("Öztürk", "İnci"),
    ("Yılmaz", "Ilgaz"),
    ("Ödön", "Zoë"),
    (NFD_ODON, "Zoe"),
    ("Иванов", "Иван"),
    ("Иванова", "Тесса"),
    ("Тестов", "Ёж"),
    ("Ёлкин", "Пётр"),
    ("Σωκράτης", "Ελένη"),
    ("ΟΔΥΣΣΕΑΣ", "Νίκος"),
    ("王", "芳"),
    ("李", "小龍"),
    ("田中", "太郎"),
    ("Tanaka", "Hiroshi"),
    ("Tanakawa", "Ai"),
    ("مريم", "أحمد"),
    ("שרה", "כהן"),
    ("👩\u200d⚕️", "Doc"),
    ("Li", "Xu"),
    ("Ng", "O"),
    ("O'Brien", "Anna"),
    ('Dou"ble', "Quote"),
    ("100%", "Sure"),
    ("a_b", "c%d"),
    ("back\\slash", "x\\y"),
    ("Star*", "(Paren)"),
    ("Near", "And Or"),
    ("Not", "Nott"),
    ("AND", "OR"),
    ("^caret", "col:on"),
    (None, "Solo"),
    ("Alone", None),
    (None, None),
    ("van der Berg", "Jan"),
    ("Berg", "Ivanka"),
    ("Tanaka", "Ivan"),
]
WORDS = [
    "",
    "a",
    "an",
    "ann",
    "ANNA",
    "ivan",
    "IVAN",
    "iv",
    "iva",
    "ivan tanaka",
    "tanaka ivan",
    "tan",
    "anaka",
    "kawa",
    "Ödön",
    NFD_ODON,
    "ödö",
    "zoë",
    "zoe",
    "müll",
    "MÜLLER",
    "strasse",
    "straße",
    "ß",
    "ss",
    "sse",
    "øst",
    "ærø",
    "ayşe",
    "i̇nci",
    "İnci",
    "inci",
    "ılg",
    "ılgaz",
    "иван",
    "ИВАН",
    "ив",
    "ова",
    "тес",
    "ёлк",
    "Ё",
    "петр",
    "пётр",
    "σωκ",
    "ΣΩΚΡΆΤΗΣ",
    "σωκράτησ",
    "ς",
    "οδυσ",
    "ΟΔΥΣΣΕΑΣ",
    "王",
    "王芳",
    "小龍",
    "田中 太郎",
    "田中太",
    "مري",
    "שרה",
    "👩",
    "⚕",
    "👩\u200d⚕️",
    "li",
    "xu",
    "ng",
    "o",
    "o'b",
    "o'brien",
    "'",
    '"',
    'dou"',
    'dou"ble',
    '"ble',
    "100%",
    "%",
    "%%",
    "0%",
    "_",
    "a_b",
    "a_",
    "_b",
    "c%d",
    "\\",
    "k\\s",
    "back\\slash",
    "x\\y",
    "star*",
    "*",
    "(paren)",
    "(pa",
    "near",
    "and or",
    "and",
    "or",
    "not",
    "nott",
    "^caret",
    "^ca",
    "col:on",
    "l:o",
    "solo",
    "alone",
    "van der",
    "der berg",
    "berg",
    "f-0",
    "f-00",
    "f-01",
    "f-001",
    "f-0 ivan",
    "f-01 an",
    "zzz",
    "ivan zzz",
    "an ив",
    "ova тес",
    "a b c",
]


def _mrn(i: int) -> str:
    return f"F-{i:03d}"


def _search_text(family: str | None, given: str | None, i: int) -> str:
    return search_index.search_text(_mrn(i), family, given)


def expected(query: str) -> list[str]:
    """The MRNs a query must find (in MRN order): every folded word a substring."""
    words = r.filter_words(query)
    return [
        _mrn(i)
        for i, (family, given) in enumerate(NAMES)
        if all(w in _search_text(family, given, i) for w in words)
    ]


def add_cases(engine: sa.Engine) -> None:
    with write_session(engine) as session:
        repository = CaseRepository(session)
        for i, (family, given) in enumerate(NAMES):
            patient = {"mrn": _mrn(i), "family_name": family, "given_name": given}
            document = {
                "format": "crlmboard.case/1",
                "patient": {k: v for k, v in patient.items() if v is not None},
            }
            repository.create(case_from_dict(document, TODAY), CaseSummary())


@pytest.fixture
def filled(engine: sa.Engine) -> sa.Engine:
    add_cases(engine)
    return engine


@pytest.fixture
def sqlite_filled(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = create_database_engine(database_url(tmp_path / "db.sqlite3"))
    migrate.upgrade(engine)
    add_cases(engine)
    yield engine
    engine.dispose()


def _mrns(entries: list[r.CaseListEntry]) -> list[str]:
    return [entry.mrn for entry in entries]


def test_every_word_must_be_a_substring_case_folded(filled: sa.Engine) -> None:
    """On both back ends (through the trigram index on SQLite)."""
    with read_session(filled) as session:
        repository = CaseRepository(session)
        assert repository.has_search_index() == (filled.dialect.name == "sqlite")
        for query in WORDS:
            assert repository.count(query) == len(expected(query)), query
            found = repository.page(query, sort="mrn", limit=len(NAMES))
            assert _mrns(found) == expected(query), query


@pytest.fixture(params=[None, 2], ids=["as-shipped", "two"])
def few_matches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """FEW_MATCHES and SORT_MATCHES as shipped, and small enough that the filters take the
    paths for many matches (the index's matches checked further, or LIKE while walking the
    order)."""
    if request.param is not None:
        monkeypatch.setattr(r, "FEW_MATCHES", request.param)
        monkeypatch.setattr(r, "SORT_MATCHES", request.param)
    return int(request.param or r.FEW_MATCHES)


def _plain_like(monkeypatch: pytest.MonkeyPatch) -> None:
    """The filter as it was before the index: LIKE on every row, in the list's order."""
    monkeypatch.setattr(CaseRepository, "_few_matches", lambda *_a, **_k: None)


PAGES: list[dict[str, Any]] = [
    {"sort": "name"},
    {"sort": "name", "descending": True},
    {"sort": "next_meeting"},
    {"sort": "name", "offset": 2, "limit": 3},
    {"sort": "mrn", "offset": 40, "limit": 5},
    {"sort": "name", "limit": 1},  # a short page: dense matches walk the order
]


def test_the_index_finds_what_like_on_every_row_finds(
    sqlite_filled: sa.Engine, few_matches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts and pages (sorts, offsets) equal the plain LIKE path's, word for word,
    including every substring of three and four characters of every name."""
    queries = list(WORDS)
    for family, given in NAMES:
        text = f"{family or ''} {given or ''}"
        queries += [text[i : i + n] for n in (3, 4) for i in range(len(text) - n + 1)]
    queries = list(dict.fromkeys(q for q in queries if q.strip()))
    pasted = ["ivan\x00x", "tan\x00", "\x00", "ivan a\x00"]  # NUL ends SQLite's strings
    queries += pasted
    with read_session(sqlite_filled) as session:
        repository = CaseRepository(session)
        got = {
            q: (repository.count(q), [_mrns(repository.page(q, **p)) for p in PAGES])
            for q in queries
        }
    with monkeypatch.context() as patched:
        _plain_like(patched)
        with read_session(sqlite_filled) as session:
            repository = CaseRepository(session)
            for query in queries:
                want = (
                    repository.count(query),
                    [_mrns(repository.page(query, **p)) for p in PAGES],
                )
                assert got[query] == want, query
                if query not in pasted:
                    assert want[0] == len(expected(query)), query


def test_the_index_follows_every_change_of_a_patient(sqlite_filled: sa.Engine) -> None:
    """Triggers keep the index in step with inserts, renames, other edits and deletes (FTS5's
    own check compares the index with the patient table)."""
    with write_session(sqlite_filled) as session:
        repository = CaseRepository(session)
        case = repository.get("F-014")  # Иванов Иван
        renamed = case.model_copy(
            update={
                "patient": case.patient.model_copy(
                    update={"family_name": "Петров", "given_name": "Pavel"}
                )
            }
        )
        repository.update(renamed, repository.version("F-014"), CaseSummary())
        other = repository.get("F-023")  # Tanaka Hiroshi: an edit leaving the name alone
        repository.update(other, repository.version("F-023"), CaseSummary(open_warnings=2))
        repository.delete("F-024")  # Tanakawa Ai
    with read_session(sqlite_filled) as session:
        repository = CaseRepository(session)
        assert "F-014" not in _mrns(repository.page("иванов"))
        assert _mrns(repository.page("петров")) == ["F-014"]
        assert _mrns(repository.page("pavel")) == ["F-014"]
        assert _mrns(repository.page("tanaka", sort="mrn")) == ["F-023", "F-045"]
        assert repository.count("kawa") == 0
    with sqlite_filled.begin() as connection:
        connection.exec_driver_sql(
            f"INSERT INTO {r.SEARCH_INDEX}({r.SEARCH_INDEX}, rank) VALUES ('integrity-check', 1)"
        )
        indexed = connection.exec_driver_sql(
            f"SELECT count(*) FROM {r.SEARCH_INDEX}_docsize"
        ).scalar()
    assert indexed == len(NAMES) - 1


def test_an_index_without_its_triggers_is_not_used(sqlite_filled: sa.Engine) -> None:
    """Without a trigger the index may be stale: the filter goes back to LIKE."""
    with sqlite_filled.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER patient_search_update")
        connection.exec_driver_sql(
            "UPDATE patient SET search_text = 'f-014 renamed' WHERE mrn = 'F-014'"
        )
    with read_session(sqlite_filled) as session:
        repository = CaseRepository(session)
        assert not repository.has_search_index()
        assert _mrns(repository.page("renamed")) == ["F-014"]
        assert repository.count("иванов") == 1  # F-015 (Иванова); F-014's index entry is stale


def test_accents_and_the_name_as_the_list_shows_it(filled: sa.Engine) -> None:
    """Issue 19: "muller" finds Müller, "ελενη" finds Ελένη, "Müller, Jürgen" (the name as
    the list writes it) finds its case; й stays its own letter."""
    with read_session(filled) as session:
        repository = CaseRepository(session)

        def found(query: str) -> list[str]:
            return _mrns(repository.page(query, sort="mrn", limit=len(NAMES)))

        assert found("muller") == ["F-003", "F-004"]
        assert found("MÜLLER, Jürgen") == ["F-003"]
        assert found("muller, jurgen") == ["F-003"]
        assert found("ελενη") == ["F-018"]
        assert found("ΣΩΚΡΑΤΗΣ, Ελένη") == ["F-018"]
        assert found("zoe") == ["F-012", "F-013"]
        assert found("horvath ivan") == ["F-000", "F-001"]
        assert found("nguyen") == ["F-002"]
        assert found("oster") == ["F-007"]
        assert found("елкин") == ["F-017"]
        assert found("ИВАН,") == ["F-014", "F-015"]
        assert repository.count("йван") == 0


def test_an_older_database_gets_its_search_text_refolded_at_open(db_path: Path) -> None:
    """A database written before accents were folded (search-text form 1) is refreshed the
    next time it is opened for writing; the trigram index follows."""
    with Board.open(db_path, clock=lambda: TODAY) as board:
        board.cases.create(
            case_from_dict(
                {
                    "format": "crlmboard.case/1",
                    "patient": {"mrn": "ACC-1", "family_name": "Müller", "given_name": "Ελένη"},
                },
                TODAY,
            )
        )
    engine = create_database_engine(database_url(db_path))
    with engine.begin() as connection:  # as form 1 wrote it
        connection.exec_driver_sql("UPDATE patient SET search_text = 'acc-1 müller ελένη'")
        connection.exec_driver_sql("DELETE FROM setting WHERE key = 'search_text_form'")
    with read_session(engine) as session:
        assert CaseRepository(session).count("muller") == 0
    engine.dispose()
    with Board.open(db_path, clock=lambda: TODAY) as board:
        assert [e.mrn for e in board.cases.page("muller ελενη")] == ["ACC-1"]
        assert [e.mrn for e in board.cases.page("Müller, Ελένη")] == ["ACC-1"]
    engine = create_database_engine(database_url(db_path))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT search_text FROM patient").scalar() == (
            "acc-1 muller ελενη"
        )
        assert search_index.refresh_search_text(engine) is None  # once per database
    engine.dispose()


def test_the_refresh_refolds_old_search_text_on_both_back_ends(filled: sa.Engine) -> None:
    """The open-time refresh, on SQLite and PostgreSQL: rows in the old form (case-folded
    only) are rewritten once, and the filter then ignores their accents."""
    with filled.begin() as connection:
        connection.execute(
            sa.text("UPDATE patient SET search_text = :text WHERE mrn = 'F-003'"),
            {"text": "f-003 müller jürgen"},
        )
        connection.execute(sa.text("DELETE FROM setting WHERE key = 'search_text_form'"))
    with read_session(filled) as session:
        assert CaseRepository(session).count("jurgen") == 0
    assert search_index.refresh_search_text(filled) == 1
    assert search_index.refresh_search_text(filled) is None
    with read_session(filled) as session:
        assert _mrns(CaseRepository(session).page("muller jurgen")) == ["F-003"]


def test_match_expression_quotes_each_word() -> None:
    assert r.match_expression(["ivan", 'dou"ble', "a*b", "or"]) == '"ivan" "dou""ble" "a*b" "or"'


def test_without_the_trigram_tokenizer_the_filter_keeps_like(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite library older than 3.34: migration 0005 creates nothing, the filter reads
    every row as before, with the same answers."""
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 33, 0))
    engine = create_database_engine(database_url(tmp_path / "db.sqlite3"))
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as connection:
            assert (
                connection.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE name LIKE 'patient_search%'"
                ).scalar()
                == 0
            )
        add_cases(engine)
        with read_session(engine) as session:
            repository = CaseRepository(session)
            assert not repository.has_search_index()
            for query in WORDS:
                assert repository.count(query) == len(expected(query)), query
                assert _mrns(repository.page(query, sort="mrn", limit=99)) == expected(query)
    finally:
        engine.dispose()


def test_a_schema_0004_database_gets_a_filled_index(tmp_path: Path) -> None:
    """Migration 0005 indexes the patients already there (the upgrade at open)."""
    path = tmp_path / "board.sqlite3"
    shutil.copyfile(FIXTURES / "schema-0004.sqlite3", path)
    with Board.open(path, clock=lambda: TODAY) as board:
        with board.database.engine.connect() as connection:
            connection.exec_driver_sql(
                f"INSERT INTO {r.SEARCH_INDEX}({r.SEARCH_INDEX}, rank) "
                "VALUES ('integrity-check', 1)"
            )
            rows = (
                connection.exec_driver_sql(
                    f"SELECT rowid FROM {r.SEARCH_INDEX} WHERE {r.SEARCH_INDEX} MATCH '\"ex-\"' "
                    "ORDER BY rowid"
                )
                .scalars()
                .all()
            )
        assert len(rows) == board.cases.count() == 3
        assert [e.mrn for e in board.cases.page("ex-000", sort="mrn")] == [
            "EX-0001",
            "EX-0002",
            "EX-0003",
        ]
        assert board.cases.count("EXAMPLE") == board.cases.count("xamp") > 0


def test_migration_0005_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    engine = create_database_engine(database_url(tmp_path / "db.sqlite3"))
    try:
        migrate.upgrade(engine)
        add_cases(engine)
        migrate.downgrade(engine, "0004")
        with engine.connect() as connection:
            assert (
                connection.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE name LIKE 'patient_search%'"
                ).scalar()
                == 0
            )
        with read_session(engine) as session:
            assert CaseRepository(session).count("ivan") == len(expected("ivan"))
        migrate.upgrade(engine, target="0005")
        with read_session(engine) as session:
            repository = CaseRepository(session)
            assert repository.has_search_index()
            assert repository.count("ivan") == len(expected("ivan"))
    finally:
        engine.dispose()
