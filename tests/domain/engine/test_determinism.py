"""Determinism and purity: byte-identical output across runs, time zones and locales; any
valid case evaluates without error; the engine reads no clock and no file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crlmboard.domain.caseformat import canonical_json, case_from_dict, loads_case
from crlmboard.domain.engine import (
    ENGINE_VERSION,
    Profile,
    evaluate,
    evaluation_to_json,
    input_sha256,
)
from crlmboard.domain.models import (
    Biologic,
    BrafResult,
    ExtrahepaticSite,
    ImmunotherapyAgent,
    LesionStatus,
    LiverBackground,
    MmrResult,
    Modality,
    MsiResult,
    NCategory,
    PrimarySite,
    ProcedureType,
    RasResult,
    Regimen,
    Resectability,
    Sequence,
    TreatmentSetting,
)
from crlmboard.domain.validation import InvalidInput
from tests.strategies import valid_case

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "flr-after-chemotherapy.json"
AS_OF = date(2025, 3, 24)
TODAY = date(2030, 1, 1)


def golden_json() -> str:
    case = loads_case(GOLDEN.read_text(encoding="utf-8"), today=TODAY)
    return evaluation_to_json(evaluate(case, AS_OF, Profile(name="default", sha256="x")))


def test_same_input_same_bytes() -> None:
    assert golden_json() == golden_json()


def test_document_layout() -> None:
    text = golden_json()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert document["format"] == "crlmboard.evaluation/1"
    assert document["engine_version"] == ENGINE_VERSION == "1.1.0"
    assert document["profile"] == {"name": "default", "sha256": "x"}
    assert document["as_of"] == "2025-03-24"
    assert document["mrn"] == "EX-0003"
    case = loads_case(GOLDEN.read_text(encoding="utf-8"), today=TODAY)
    assert document["input_sha256"] == input_sha256(case)
    assert len(document["input_sha256"]) == 64
    order = {"critical": 0, "warning": 1, "advice": 2, "info": 3}
    keys = [(order[f["severity"]], f["rule"]) for f in document["findings"]]
    assert keys == sorted(keys)
    for finding in document["findings"]:
        assert set(finding) == {"rule", "severity", "title", "message", "values", "sources"}


def test_input_hash_ignores_reviews() -> None:
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    plain = case_from_dict(data, today=TODAY)
    data["reviews"] = [{"meeting_date": "2025-03-04", "question": "Resectable?"}]
    reviewed = case_from_dict(data, today=TODAY)
    assert input_sha256(plain) == input_sha256(reviewed)
    import hashlib

    assert input_sha256(plain) == hashlib.sha256(canonical_json(plain).encode()).hexdigest()


@pytest.fixture
def time_zone() -> Iterator[Any]:
    saved = os.environ.get("TZ")

    def switch(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield switch
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_same_bytes_in_other_time_zones(time_zone: Any) -> None:
    reference = golden_json()
    for zone in ("Pacific/Kiritimati", "America/Adak", "UTC"):
        time_zone(zone)
        assert golden_json() == reference, zone


SCRIPT = """
import sys
from datetime import date
from pathlib import Path
from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import Profile, evaluate, evaluation_to_json
case = loads_case(Path(sys.argv[1]).read_text(encoding="utf-8"), today=date(2030, 1, 1))
text = evaluation_to_json(evaluate(case, date(2025, 3, 24), Profile(name="default", sha256="x")))
sys.stdout.buffer.write(text.encode("utf-8"))
"""


@pytest.mark.parametrize(
    "env",
    [
        {"TZ": "Pacific/Kiritimati"},
        {"TZ": "America/Adak"},
        {"LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"},
        {"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "ascii"},
    ],
)
def test_same_bytes_in_another_process(env: dict[str, str]) -> None:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(GOLDEN)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        check=True,
        timeout=120,
    )
    assert run.stdout == golden_json().encode("utf-8")


def test_the_engine_reads_no_clock_no_file_and_no_outer_layer() -> None:
    forbidden = re.compile(
        r"date\.today|datetime\.now|datetime\.utcnow|time\.time\(|\bopen\(|read_text|"
        r"import (PySide6|reportlab|sqlalchemy|sqlmodel|random|os)\b|"
        r"from (PySide6|reportlab|sqlalchemy|crlmboard\.(store|services|ui|report|cli))"
    )
    sources = list((ROOT / "crlmboard" / "domain" / "engine").rglob("*.py"))
    assert len(sources) >= 14
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not forbidden.search(text), (path.name, forbidden.search(text))


# --------------------------------------------------------------------------------------
# Any valid case: no error, same bytes twice (hypothesis)

IDS = ["L1", "L2", "L3", "L4", "L5"]
DAY0 = date(2022, 1, 1)


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def days(draw: st.DrawFn, span: int = 1500) -> str:
    return (DAY0 + timedelta(days=draw(st.integers(0, span)))).isoformat()


@st.composite
def lesions(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=5))
    out = []
    for lesion_id in ids:
        lesion = {
            "id": lesion_id,
            "segment": draw(optional(st.integers(1, 8))),
            "longest_diameter_mm": draw(
                optional(st.integers(0, 120) | st.floats(0, 120, width=32))
            ),
            "depth_mm": draw(optional(st.integers(0, 60))),
            "target": draw(optional(st.booleans())),
            "morphology_group": draw(optional(st.integers(1, 3))),
            "status": draw(optional(st.sampled_from(_values(LesionStatus)))),
        }
        out.append({k: v for k, v in lesion.items() if v is not None})
    return out


@st.composite
def imaging(draw: st.DrawFn) -> dict[str, Any]:
    total = draw(optional(st.integers(800, 2500)))
    scan = {
        "date": draw(days()),
        "modality": draw(optional(st.sampled_from(_values(Modality)))),
        "lesions": draw(lesions()),
        "new_lesions": draw(optional(st.booleans())),
        "non_target_progression": draw(optional(st.booleans())),
        "total_liver_volume_ml": total,
        "flr_volume_ml": draw(optional(st.integers(0, total))) if total else None,
        "flr_percent": draw(optional(st.floats(0, 100, width=32))),
    }
    return {k: v for k, v in scan.items() if v is not None}


@st.composite
def treatment(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["chemotherapy", "immunotherapy", "procedure"]))
    when = draw(days())
    if kind == "chemotherapy":
        item = {
            "regimen": draw(st.sampled_from(_values(Regimen))),
            "biologic": draw(optional(st.sampled_from(_values(Biologic)))),
            "cycle": draw(st.integers(1, 12)),
            "cycle_length_days": draw(optional(st.sampled_from([14, 21]))),
            "setting": draw(st.sampled_from(_values(TreatmentSetting))),
        }
    elif kind == "immunotherapy":
        item = {
            "agent": draw(st.sampled_from(_values(ImmunotherapyAgent))),
            "setting": draw(st.sampled_from(_values(TreatmentSetting))),
        }
    else:
        item = {
            "procedure": draw(st.sampled_from(_values(ProcedureType))),
            "lesion_ids": draw(optional(st.lists(st.sampled_from(IDS), max_size=2))),
        }
    return {"kind": kind, "date": when, **{k: v for k, v in item.items() if v is not None}}


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    diagnosed = draw(st.integers(0, 600))
    primary = {
        "site": draw(optional(st.sampled_from(_values(PrimarySite)))),
        "n": draw(optional(st.sampled_from(_values(NCategory)))),
        "diagnosis_date": (DAY0 + timedelta(days=diagnosed)).isoformat(),
        "resection_date": draw(
            optional(
                st.integers(diagnosed, 900).map(lambda d: (DAY0 + timedelta(days=d)).isoformat())
            )
        ),
    }
    molecular = {
        "kras": draw(optional(st.sampled_from(_values(RasResult)))),
        "nras": draw(optional(st.sampled_from(_values(RasResult)))),
        "braf": draw(optional(st.sampled_from(_values(BrafResult)))),
        "mmr": draw(optional(st.sampled_from(_values(MmrResult)))),
        "msi": draw(optional(st.sampled_from(_values(MsiResult)))),
        "tested_on": draw(optional(days())),
    }
    plan = {
        "resectability": draw(optional(st.sampled_from(_values(Resectability)))),
        "intent": draw(optional(st.sampled_from(["curative", "palliative"]))),
        "sequence": draw(optional(st.sampled_from(_values(Sequence)))),
        "segments_to_resect": draw(optional(st.lists(st.integers(1, 8), unique=True))),
        "planned_flr_percent": draw(optional(st.integers(0, 100))),
        "planned_regimen": draw(optional(st.sampled_from(_values(Regimen)))),
        "planned_biologic": draw(optional(st.sampled_from(_values(Biologic)))),
        "planned_immunotherapy": draw(optional(st.sampled_from(_values(ImmunotherapyAgent)))),
        "planned_surgery_date": draw(optional(days())),
    }
    labs = [
        {
            k: v
            for k, v in {
                "date": draw(days()),
                "cea_ng_ml": draw(optional(st.floats(0, 500, width=32))),
                "ast_u_l": draw(optional(st.integers(0, 300))),
                "ast_uln_u_l": draw(optional(st.integers(1, 60))),
                "platelets_10e9_l": draw(optional(st.integers(0, 600))),
            }.items()
            if v is not None
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    outcomes = [
        {
            "date": draw(days()),
            "procedure": draw(optional(st.sampled_from(_values(ProcedureType)))),
            "margin_mm": draw(optional(st.floats(0, 20, width=32))),
            "margin_status": draw(optional(st.sampled_from(["r0", "r1", "r2"]))),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    data = {
        "format": "crlmboard.case/1",
        "patient": {
            k: v
            for k, v in {
                "mrn": "HYP-1",
                "birth_date": draw(
                    optional(st.sampled_from(["1940-02-29", "1955-07-01", "1970-12-31"]))
                ),
                "ecog": draw(optional(st.integers(0, 4))),
                "height_cm": draw(optional(st.integers(140, 200))),
                "weight_kg": draw(optional(st.floats(40, 150, width=32))),
                "liver_background": draw(optional(st.sampled_from(_values(LiverBackground)))),
            }.items()
            if v is not None
        },
        "primary": {k: v for k, v in primary.items() if v is not None},
        "liver_metastases_diagnosis_date": draw(optional(days())),
        "molecular": {k: v for k, v in molecular.items() if v is not None},
        "extrahepatic_disease": [
            {"site": site, "detected_on": draw(optional(days()))}
            for site in draw(st.lists(st.sampled_from(_values(ExtrahepaticSite)), max_size=3))
        ],
        "labs": labs,
        "treatments": draw(st.lists(treatment(), max_size=12)),
        "imaging": draw(st.lists(imaging(), max_size=5)),
        "plan": {k: v for k, v in plan.items() if v is not None},
        "surgery_outcomes": [{k: v for k, v in o.items() if v is not None} for o in outcomes],
    }
    if draw(st.booleans()):
        data.pop("primary")
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=cases(), as_of_offset=st.integers(0, 1700))
def test_any_valid_case_evaluates_twice_identically(
    data: dict[str, Any], as_of_offset: int
) -> None:
    try:
        case = case_from_dict(data, today=TODAY)
    except InvalidInput:
        assume(False)
        return
    as_of = DAY0 + timedelta(days=as_of_offset)
    first = evaluation_to_json(evaluate(case, as_of, Profile()))
    second = evaluation_to_json(evaluate(case, as_of, Profile()))
    assert first == second
    document = json.loads(first)
    for finding in document["findings"]:
        assert finding["message"] and finding["sources"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=valid_case, as_of_offset=st.integers(0, 13000))
def test_shared_valid_cases_evaluate_twice_identically(
    data: dict[str, Any], as_of_offset: int
) -> None:
    """The project's shared case strategy (tests/strategies.py) as a second generator."""
    try:
        case = case_from_dict(data, today=TODAY)
    except InvalidInput:
        assume(False)
        return
    as_of = date(1990, 1, 1) + timedelta(days=as_of_offset)
    first = evaluation_to_json(evaluate(case, as_of, Profile()))
    assert first == evaluation_to_json(evaluate(case, as_of, Profile()))
