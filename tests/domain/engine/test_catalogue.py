"""The rule catalogue matches guideline-rules.md: ids, severities, sources, profile keys."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import (
    RULES,
    SOURCES,
    Profile,
    catalogue,
    catalogue_to_json,
    evaluate,
)
from crlmboard.domain.engine.facts import derive
from crlmboard.domain.engine.profile import PROFILE_KEY_BY_NAME
from crlmboard.domain.engine.rules import Context

# id: (severity, sources) exactly as the tables of guideline-rules.md
SPEC: dict[str, tuple[str, tuple[str, ...]]] = {
    "DATA.MOLECULAR_INCOMPLETE": ("warning", ("guo-2021", "rev-nct-2020", "nccn-colon")),
    "DATA.NO_IMAGING": ("warning", ("wjg-2014",)),
    "DATA.NO_BASELINE_IMAGING": ("warning", ("eisenhauer-2009",)),
    "DATA.FLR_NOT_MEASURED": ("warning", ("guo-2021", "wjg-2014")),
    "DATA.TARGET_NOT_MEASURABLE": ("info", ("eisenhauer-2009",)),
    "DATA.CEA_NOT_REMEASURED": ("info", ("guo-2021",)),
    "DATA.SCORE_INCOMPLETE": ("info", ("fong-1999", "margonis-2018", "brudvik-2019")),
    "REGIMEN.ANTI_EGFR_RAS_MUTANT": ("critical", ("rev-nct-2020", "rev-treat-2021")),
    "REGIMEN.ANTI_EGFR_BRAF_V600E": (
        "warning",
        ("rev-treat-2021", "breakwater-2025", "beacon-2019"),
    ),
    "REGIMEN.ANTI_EGFR_UNTESTED": ("warning", ("rev-nct-2020",)),
    "REGIMEN.ANTI_EGFR_RIGHT_SIDED": ("advice", ("rev-nct-2020",)),
    "REGIMEN.ANTI_EGFR_RESECTABLE": ("warning", ("guo-2021", "rev-nct-2020")),
    "REGIMEN.IMMUNOTHERAPY_DMMR": ("advice", ("guo-2021", "keynote-177", "checkmate-8hw")),
    "REGIMEN.IMMUNOTHERAPY_PMMR": ("warning", ("rev-nct-2020",)),
    "REGIMEN.IRINOTECAN_STEATOHEPATITIS": ("warning", ("rev-nct-2020", "guo-2021")),
    "REGIMEN.OXALIPLATIN_SOS": ("advice", ("rev-nct-2020", "guo-2021")),
    "REGIMEN.BRAF_V600E": ("advice", ("rev-treat-2021", "guo-2021", "breakwater-2025")),
    "PATHWAY.UPFRONT_RESECTION": ("advice", ("guo-2021", "rev-nct-2020", "eortc-40983")),
    "PATHWAY.PERIOPERATIVE_CHEMOTHERAPY": ("advice", ("rev-nct-2020", "guo-2021")),
    "PATHWAY.CONVERSION_CHEMOTHERAPY": ("advice", ("rev-nct-2020", "guo-2021", "wjg-2014")),
    "PATHWAY.SYNCHRONOUS_SEQUENCE": ("advice", ("rev-treat-2021", "wjg-2014")),
    "PATHWAY.SIMULTANEOUS_MAJOR_HEPATECTOMY": ("warning", ("wjg-2014",)),
    "PATHWAY.ABLATION_OPTION": ("advice", ("rev-treat-2021", "wjg-2014", "collision-2025")),
    "PATHWAY.TRANSPLANT_REFERRAL": ("advice", ("rev-treat-2021", "transmet-2024")),
    "PATHWAY.REPEAT_HEPATECTOMY": ("advice", ("wjg-2014", "rev-treat-2021")),
    "PATHWAY.EXTRAHEPATIC_MULTIPLE_SITES": ("warning", ("wjg-2014",)),
    "PATHWAY.EXTRAHEPATIC_DISTANT_NODES": ("warning", ("wjg-2014",)),
    "PATHWAY.PERITONEAL_LIVER_LIMIT": ("warning", ("wjg-2014",)),
    "PATHWAY.EXTRAHEPATIC_UNRESECTABLE": ("warning", ("wjg-2014", "guo-2021")),
    "PATHWAY.REASSESS_RESECTABILITY": (
        "advice",
        ("guo-2021", "rev-nct-2020", "wjg-2014", "nccn-colon"),
    ),
    "PATHWAY.FITNESS_FOR_SURGERY": ("warning", ("rev-nct-2020", "wjg-2014", "rev-treat-2021")),
    "PATHWAY.REGIONAL_THERAPY_OPTION": ("advice", ("guo-2021", "rev-treat-2021", "wjg-2014")),
    "TIMING.RESTAGING_OVERDUE": ("warning", ("rev-nct-2020", "guo-2021")),
    "TIMING.RESTAGING_DUE_SOON": ("info", ("rev-nct-2020",)),
    "TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY": ("warning", ("rev-nct-2020", "rev-treat-2021")),
    "TIMING.SURGERY_TOO_SOON_AFTER_BEVACIZUMAB": ("warning", ("rev-nct-2020", "guo-2021")),
    "TIMING.PROLONGED_PREOPERATIVE_CHEMOTHERAPY": (
        "warning",
        ("guo-2021", "wjg-2014", "rev-nct-2020"),
    ),
    "TIMING.PROCEED_TO_SURGERY": ("advice", ("rev-nct-2020", "guo-2021")),
    "TIMING.PVE_REASSESSMENT": ("advice", ("wjg-2014", "guo-2021")),
    "RESPONSE.PROGRESSION_ON_CHEMOTHERAPY": ("critical", ("wjg-2014",)),
    "RESPONSE.COMPLETE_RADIOLOGICAL_RESPONSE": ("warning", ("guo-2021", "rev-nct-2020")),
    "RESPONSE.DISAPPEARING_METASTASIS": ("warning", ("guo-2021",)),
    "RESPONSE.MARK_LESIONS_AT_RISK": ("advice", ("guo-2021", "rev-nct-2020")),
    "RESPONSE.CEA_NOT_FALLING": ("advice", ("guo-2021",)),
    "RESPONSE.CEA_FALLING": ("info", ("guo-2021",)),
    "RESPONSE.CT_ONLY_RESTAGING": ("advice", ("guo-2021",)),
    "SURGERY.FLR_BELOW_REQUIRED": ("critical", ("guo-2021", "wjg-2014", "rev-treat-2021")),
    "SURGERY.PVE_LOW_GROWTH": ("warning", ("shindoh-2013",)),
    "SURGERY.R1_MARGIN": ("warning", ("guo-2021",)),
    "SURGERY.R2_RESIDUAL_DISEASE": ("critical", ("rev-treat-2021", "wjg-2014")),
    "SURGERY.SECOND_STAGE_PENDING": ("advice", ("rev-treat-2021", "wjg-2014")),
    "SURGERY.ADJUVANT_DISCUSSION": ("advice", ("guo-2021", "rev-nct-2020")),
    "SCORE.FONG_HIGH_RISK": ("advice", ("fong-1999", "guo-2021")),
}
SPEC_SOURCE_KEYS = {
    "rev-nct-2020",
    "guo-2021",
    "rev-treat-2021",
    "wjg-2014",
    "cairo-2024",
    "nccn-colon",
    "fong-1999",
    "margonis-2018",
    "brudvik-2019",
    "sasaki-2018",
    "eisenhauer-2009",
    "chun-2009",
    "eortc-40983",
    "beacon-2019",
    "collision-2025",
    "breakwater-2025",
    "keynote-177",
    "checkmate-8hw",
    "shindoh-2013",
    "transmet-2024",
}
GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def test_rules_match_the_spec() -> None:
    assert [r.id for r in RULES] == list(SPEC)
    for r in RULES:
        severity, sources = SPEC[r.id]
        assert r.severity.value == severity, r.id
        assert r.sources == sources, r.id


def test_titles_and_descriptions() -> None:
    titles = [r.title for r in RULES]
    assert len(set(titles)) == len(titles)
    for r in RULES:
        assert r.title and r.title[0].isupper() and not r.title.endswith(".")
        assert r.description.endswith(".")
    flr = next(r for r in RULES if r.id == "SURGERY.FLR_BELOW_REQUIRED")
    assert flr.title == "Future liver remnant below the required volume"


def test_sources_have_full_references() -> None:
    assert set(SOURCES) == SPEC_SOURCE_KEYS
    for key, reference in SOURCES.items():
        assert len(reference) > 30, key
    assert "World J Gastrointest Oncol 2021" in SOURCES["guo-2021"]
    assert "Ann Surg 1999;230:309–318" in SOURCES["fong-1999"]


def test_profile_keys_exist() -> None:
    for r in RULES:
        for key in r.profile_keys:
            assert key in PROFILE_KEY_BY_NAME, (r.id, key)


def test_catalogue_shows_current_thresholds_and_references() -> None:
    entries = catalogue(Profile(chemo_washout_days=35))
    by_id = {e["id"]: e for e in entries}
    chemo = by_id["TIMING.SURGERY_TOO_SOON_AFTER_CHEMOTHERAPY"]
    assert chemo["severity"] == "warning"
    assert chemo["group"] == "TIMING"
    assert {
        "key": "chemo_washout_days",
        "value": 35,
        "unit": "days",
        "meaning": "minimum days from last chemotherapy to hepatectomy",
    } in chemo["profile_keys"]
    assert chemo["sources"][0] == {"key": "rev-nct-2020", "reference": SOURCES["rev-nct-2020"]}


def test_catalogue_json_is_deterministic() -> None:
    text = catalogue_to_json(Profile())
    assert text == catalogue_to_json(Profile())
    assert text.endswith("}\n")
    document = json.loads(text)
    assert document["format"] == "crlmboard.rules/1"
    assert len(document["rules"]) == len(RULES)
    assert document["severities"] == ["critical", "warning", "advice", "info"]


class RecordingProfile:
    """A profile that records which thresholds a rule reads."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._profile, name)


def _contexts(cb: Any) -> list[tuple[Any, date]]:
    cases = [
        (
            loads_case(p.read_text(encoding="utf-8"), today=date(2030, 1, 1)),
            date.fromisoformat(json.loads(p.with_suffix(".expected.json").read_text())["as_of"]),
        )
        for p in sorted(GOLDEN.glob("*.json"))
        if not p.name.endswith(".expected.json")
    ]
    cases.append(
        (
            cb.case(
                imaging=[
                    cb.scan(
                        "2025-03-01",
                        [cb.lesion("L1", 60), cb.lesion("L2", 8, depth_mm=20)],
                        flr_percent=20,
                    ),
                    cb.scan(
                        "2025-05-01",
                        [cb.lesion("L1", 75), cb.lesion("L2", 0)],
                        flr_percent=24,
                        modality="ct",
                    ),
                ],
                labs=[
                    {"date": "2025-03-01", "cea_ng_ml": 90},
                    {"date": "2025-05-02", "cea_ng_ml": 95},
                ],
                treatments=[
                    *cb.cycles("2025-03-03", 6, biologic="bevacizumab"),
                    cb.procedure("2025-04-01", "portal_vein_embolization"),
                ],
                extrahepatic_disease=[{"site": "peritoneum"}, {"site": "celiac_nodes"}],
                plan={
                    "resectability": "resectable",
                    "planned_surgery_date": "2025-06-02",
                    "sequence": "simultaneous",
                    "segments_to_resect": [5, 6, 7, 8],
                    "planned_flr_percent": 25,
                    "planned_regimen": "folfiri",
                    "planned_biologic": "cetuximab",
                    "planned_immunotherapy": "nivolumab",
                },
                surgery_outcomes=[
                    {"date": "2025-01-01", "procedure": "hepatectomy", "margin_mm": 0.5}
                ],
            ),
            date(2025, 6, 1),
        )
    )
    return cases


def test_rules_read_only_the_profile_keys_they_declare(cb: Any) -> None:
    fired: set[str] = set()
    for case, as_of in _contexts(cb):
        facts, episode = derive(case, as_of, Profile())
        for r in RULES:
            recorder = RecordingProfile(Profile())
            context = Context(
                as_of=as_of,
                profile=recorder,  # type: ignore[arg-type]
                facts=facts,
                episode=episode,
            )
            if r.check(context) is not None:
                fired.add(r.id)
            assert recorder.read <= set(r.profile_keys), (r.id, recorder.read)
    assert len(fired) >= 20  # the cases above reach most rules past their first condition


def test_findings_carry_the_catalogue_metadata(cb: Any) -> None:
    for case, as_of in _contexts(cb):
        for finding in evaluate(case, as_of, Profile()).findings:
            r = next(x for x in RULES if x.id == finding.rule)
            assert (finding.title, finding.severity, finding.sources) == (
                r.title,
                r.severity,
                r.sources,
            )
            assert finding.message.endswith(".")
            assert finding.values


def test_rule_fields_are_complete() -> None:
    names = {f.name for f in fields(RULES[0])}
    assert names == {"id", "severity", "title", "description", "profile_keys", "sources", "check"}


def test_engine_1_1_0_has_53_rules_and_its_sources() -> None:
    from crlmboard.domain.engine import ENGINE_VERSION

    assert ENGINE_VERSION == "1.1.0"
    assert len(RULES) == 53
    assert list(SPEC) == [r.id for r in RULES]  # the spec's table order
    assert SOURCES["breakwater-2025"].startswith("Elez E")
    assert "N Engl J Med 2025;392:2425–2437" in SOURCES["breakwater-2025"]
    for key in ("rev-nct-2020", "rev-treat-2021", "wjg-2014"):
        # the supplied texts do not name their authors: say so, invent none
        assert "not named in the supplied text" in SOURCES[key]
