"""The mapping tables: every enumeration value mapped, every code well formed for its system.

No terminology server is reachable in CI, so each code is checked offline against the rules
its code system publishes: SNOMED CT identifiers carry a Verhoeff check digit and a concept
partition, LOINC codes a mod-10 check digit, RxNorm codes are numeric, HGNC ids `HGNC:n`,
ICD-O-3 morphology `nnnn/b`, AJCC categories their letter pattern.
"""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from crlmboard.domain import models as m
from crlmboard.interop import codes as c

_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff_ok(number: str) -> bool:
    check = 0
    for i, digit in enumerate(reversed(number)):
        check = _D[check][_P[i % 8][int(digit)]]
    return check == 0


def loinc_check_ok(code: str) -> bool:
    """LOINC's mod-10 check digit (LOINC users' guide, appendix)."""
    digits, check = code.split("-")
    reverse = digits[::-1]
    odd, even = reverse[0::2], reverse[1::2]
    total = sum(int(d) for d in even + str(int(odd) * 2))
    return (10 - total % 10) % 10 == int(check)


ALL = c.all_codes()


def test_the_tables_are_not_empty() -> None:
    assert len(ALL) > 100


def code_problem(table: str, code: c.Code) -> str | None:
    """Why a code is not well formed for its system (None when it is)."""

    def well_formed() -> bool:
        if not code.display.strip():
            return False
        if not code.confirmed:
            return code.system.startswith(c.PROJECT + ".1.")
        if code.system.startswith(c.PROJECT):
            return False  # a project code marked confirmed
        if code.system == c.SNOMED:
            return (
                code.code.isdigit()
                and 6 <= len(code.code) <= 18
                and verhoeff_ok(code.code)
                and code.code[-3:-1] in ("00", "10")
            )
        if code.system == c.LOINC:
            if code.code.startswith("LA"):
                return re.fullmatch(r"LA\d{4,5}-\d", code.code) is not None
            return re.fullmatch(r"\d{1,5}-\d", code.code) is not None and loinc_check_ok(code.code)
        patterns = {
            c.RXNORM: r"\d+",
            c.HGNC: r"HGNC:\d+",
            c.ICDO3: r"\d{4}/[0-36]",
            c.AJCC: r"[cp]?(T|N|M)\w+|[0-4][A-C]?",
        }
        if code.system in patterns:
            return re.fullmatch(patterns[code.system], code.code) is not None
        return code.system in c.STANDARD_SYSTEMS

    return None if well_formed() else f"{table}: {code.system}|{code.code} {code.display}"


def test_every_code_is_well_formed_for_its_system() -> None:
    problems = [p for table, code in ALL if (p := code_problem(table, code))]
    assert problems == []


def test_the_checks_catch_a_mistyped_code() -> None:
    assert code_problem("x", c.Code(c.SNOMED, "10200005", "Liver")) is not None
    assert code_problem("x", c.Code(c.LOINC, "2039-7", "CEA")) is not None
    assert code_problem("x", c.Code(c.RXNORM, "RX4492", "5-FU")) is not None
    assert code_problem("x", c.Code("http://example.org", "1", "x")) is not None


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (c.PRIMARY_SITE_BODY_SITE, m.PrimarySite),
        (c.PRIMARY_SITE_CONDITION, m.PrimarySite),
        (c.HISTOLOGY, m.Histology),
        (c.T_CATEGORY, m.TCategory),
        (c.N_CATEGORY, m.NCategory),
        (c.REGIMEN_DRUGS, m.Regimen),
        (c.BIOLOGIC_DRUGS, m.Biologic),
        (c.IMMUNOTHERAPY_DRUGS, m.ImmunotherapyAgent),
        (c.SETTING_INTENT, m.TreatmentSetting),
        (c.PROCEDURE_CODES, m.ProcedureType),
        (c.MODALITY_DICOM, m.Modality),
        (c.MODALITY, m.Modality),
        (c.LESION_STATUS, m.LesionStatus),
        (c.STRATEGY, m.Strategy),
        (c.ROLE, m.Role),
    ],
)
def test_every_enumeration_value_is_mapped(
    table: dict[object, object], enum: type[StrEnum]
) -> None:
    assert set(table) == set(enum)


def test_result_tables_cover_every_known_result() -> None:
    assert set(c.MSI_VALUES) == set(m.MsiResult) - {m.MsiResult.UNKNOWN}
    assert set(c.MMR_VALUES) == set(m.MmrResult) - {m.MmrResult.UNKNOWN}
    assert set(c.HER2_VALUES) == set(m.Her2Result) - {m.Her2Result.UNKNOWN}
    assert set(c.ECOG_ANSWERS) == {0, 1, 2, 3, 4}


def test_every_drug_of_a_regimen_has_a_code() -> None:
    for table in (c.REGIMEN_DRUGS, c.BIOLOGIC_DRUGS, c.IMMUNOTHERAPY_DRUGS):
        for drugs in table.values():
            assert set(drugs) <= set(c.DRUGS)


@pytest.mark.parametrize(
    "table",
    [
        c.SETTING_INTENT,
        c.PROCEDURE_CODES,
        c.MODALITY,
        c.STRATEGY,
        c.ROLE,
        c.LESION_STATUS,
        c.HISTOLOGY,
        c.PRIMARY_SITE_BODY_SITE,
    ],
)
def test_tables_read_backwards_give_every_value_back(table: dict[object, object]) -> None:
    """Import needs a code that names exactly one value for every value."""
    back = c.reverse(table)  # type: ignore[arg-type]
    assert set(back.values()) == set(table)


def test_project_codes_are_the_documented_gaps() -> None:
    """Every value without a confirmed standard code is listed (and so is in the README)."""
    gaps = {
        (t, code.code)
        for t, code in ALL
        if not code.confirmed and t not in ("MODALITY", "LESION_STATUS", "STRATEGY", "ROLE")
    }
    assert gaps == {
        ("HISTOLOGY", "other"),
        ("MMR", "mmr-ihc"),
        ("MMR_VALUES", "proficient"),
        ("MMR_VALUES", "deficient"),
        ("DRUGS", "ramucirumab"),
        ("DRUGS", "trifluridine_tipiracil"),
        ("DRUGS", "other_chemotherapy"),
        ("DRUGS", "other_immunotherapy"),
        ("NEXT_REVIEW", "next-review"),
        ("BOARD_ACTION", "action"),
        *{("PROCEDURE_CODES", p.value) for p in m.ProcedureType},
    }
    standard_procedures = {
        p for p, codes in c.PROCEDURE_CODES.items() if any(code.confirmed for code in codes)
    }
    assert standard_procedures == {
        m.ProcedureType.THERMAL_ABLATION,
        m.ProcedureType.HEPATECTOMY,
        m.ProcedureType.TWO_STAGE_FIRST,
        m.ProcedureType.TWO_STAGE_SECOND,
        m.ProcedureType.ALPPS_STAGE_2,
        m.ProcedureType.COLECTOMY,
        m.ProcedureType.LIVER_TRANSPLANT,
    }


def test_the_project_namespace_is_an_oid_and_every_project_uri_lies_under_it() -> None:
    assert re.fullmatch(r"urn:oid:2\.25\.\d+", c.PROJECT)
    assert int(c.PROJECT_OID.split(".")[2]) < 2**128  # a UUID as an integer (X.667)
    uris = [code.system for _, code in ALL if not code.confirmed]
    uris += [value for name, value in vars(c).items() if name.endswith("_EXTENSION")]
    uris += [c.MRN_SYSTEM, c.REVIEW_HASH_SYSTEM, c.EVALUATION_INPUT_SYSTEM]
    project = [u for u in uris if not u.startswith("http://hl7.org/")]
    assert project and all(re.fullmatch(re.escape(c.PROJECT) + r"\.[123]\.\d+", u) for u in project)
    assert not any("crlmboard" in u for u in uris)
    # every former urn:crlmboard:fhir URI is read as its OID
    assert set(c.legacy_names().values()) >= set(project)


def test_no_inactive_snomed_code_is_written() -> None:
    written = {code.code for _, code in ALL if code.system == c.SNOMED}
    assert not written & set(c.INACTIVE_SNOMED)
