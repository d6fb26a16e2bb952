"""Bundles written by other systems: the mCODE IG's own examples and hand-written bundles.

Statuses are honoured (what is not a fact is skipped and listed with the reason), bundles
about another cancer or without liver metastases are refused whole, the codes the IG's
examples use are read, everything not mapped is listed item by item, and no mutation of a
bundle makes the importer fail with anything but a clear refusal."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crlmboard.cli import main
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.validation import InvalidInput
from crlmboard.interop import codes as c
from crlmboard.interop.mcode import case_to_bundle
from crlmboard.interop.mcode_import import bundle_to_document
from crlmboard.services import Board
from crlmboard.services.evaluation import default_profile
from tests.conftest import GOLDEN, TODAY
from tests.fhirconformance.packages import fetch_all

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PATIENT_REF = {"reference": "Patient/cancer-patient-john-anyperson"}


def ig_example(name: str) -> dict[str, Any]:
    folder = fetch_all()["hl7.fhir.us.mcode"] / "example"
    data: dict[str, Any] = json.loads((folder / name).read_text("utf-8"))
    return data


def refusal(bundle: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as caught:
        bundle_to_document(bundle)
    return " ".join(str(p) for p in caught.value.problems)


def collection(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": f"http://other.example.org/fhir/{r['resourceType']}/{r['id']}",
                "resource": r,
            }
            for r in resources
        ],
    }


def condition(id_: str, coding: list[dict[str, str]], **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": id_,
        "clinicalStatus": {"coding": [{"system": c.CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": c.CONDITION_VERIFICATION, "code": "confirmed"}]
        },
        "code": {"coding": coding},
        "subject": PATIENT_REF,
        **more,
    }


def colon_primary() -> dict[str, Any]:
    return condition(
        "colon-primary",
        [
            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C18.7"},
            {"system": SNOMED, "code": "363406005", "display": "Malignant tumor of colon"},
        ],
        meta={"profile": [c.PROFILES["primary"]]},
        onsetDateTime="2023-05-02",
    )


def liver_metastases() -> dict[str, Any]:
    return condition(
        "liver-mets",
        [
            {
                "system": SNOMED,
                "code": "94381002",
                "display": "Secondary malignant neoplasm of liver",
            }
        ],
        meta={"profile": [c.PROFILES["secondary"]]},
        onsetDateTime="2025-03-14",
    )


def observation(id_: str, code: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": code,
        "subject": PATIENT_REF,
        **more,
    }


def cea(id_: str, value: float, unit: str, when: str, status: str = "final") -> dict[str, Any]:
    return observation(
        id_,
        {"coding": [{"system": LOINC, "code": "2039-6"}]},
        status=status,
        effectiveDateTime=when,
        valueQuantity={"value": value, "unit": unit, "system": c.UCUM, "code": unit},
    )


def foreign_colorectal_bundle() -> dict[str, Any]:
    """Another mCODE system's bundle: the IG's patient and TNM examples, a colon primary,
    liver metastases, and what a receiving system meets in practice."""
    t3 = ig_example("Observation-tnm-clinical-primary-tumor-category-cT3.json")
    n_category = ig_example("Observation-tnm-clinical-regional-nodes-category-cN3.json")
    n_category["valueCodeableConcept"] = {
        "coding": [
            {
                "system": SNOMED,
                "code": "1229967007",
                "display": "American Joint Committee on Cancer cN1a (qualifier value)",
            }
        ]
    }
    variant = observation(
        "kras",
        {"coding": [{"system": LOINC, "code": "69548-6"}]},
        effectiveDateTime="2025-04-01",
        valueCodeableConcept={"coding": [{"system": LOINC, "code": "LA9633-4"}]},
        component=[
            {
                "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                "valueCodeableConcept": {
                    "coding": [{"system": "http://www.genenames.org", "code": "HGNC:6407"}]
                },
            },
            {
                "code": {"coding": [{"system": LOINC, "code": "48005-3"}]},
                "valueCodeableConcept": {
                    "coding": [{"system": c.HGVS, "code": "NP_004976.2:p.(Gly12Asp)"}]
                },
            },
        ],
    )
    hepatectomy = {
        "resourceType": "Procedure",
        "id": "hepatectomy",
        "status": "completed",
        "code": {"coding": [{"system": SNOMED, "code": "107963000", "display": "Hepatectomy"}]},
        "subject": PATIENT_REF,
        "performedPeriod": {"start": "2025-06-10T08:00:00Z", "end": "2025-06-10T13:00:00Z"},
    }
    cancelled_ablation = {
        "resourceType": "Procedure",
        "id": "ablation-not-done",
        "status": "not-done",
        "code": {"coding": [{"system": SNOMED, "code": "5415002"}]},
        "subject": PATIENT_REF,
        "performedDateTime": "2025-06-01",
    }
    refuted_lung = condition(
        "lung-mets",
        [{"system": SNOMED, "code": "94391008", "display": "Secondary malignant neoplasm of lung"}],
        verificationStatus={"coding": [{"system": c.CONDITION_VERIFICATION, "code": "refuted"}]},
    )
    return collection(
        ig_example("Patient-cancer-patient-john-anyperson.json"),
        colon_primary(),
        liver_metastases(),
        refuted_lung,
        t3,
        n_category,
        cea("cea-1", 12.5, "ug/L", "2025-03-10"),
        cea("cea-typo", 125, "ug/L", "2025-03-11", status="entered-in-error"),
        variant,
        hepatectomy,
        cancelled_ablation,
        ig_example("MedicationRequest-cancer-related-medication-request-cisplatin-stopped.json"),
        ig_example("Observation-cancer-disease-status-improved.json"),
    )


def test_a_foreign_colorectal_bundle_is_read_with_its_statuses_honoured() -> None:
    mapped = bundle_to_document(foreign_colorectal_bundle())
    document, notes = mapped.document, mapped.notes
    case = case_from_dict(document, TODAY)  # a valid case
    assert case.primary is not None and case.primary.t is not None
    assert document["primary"]["t"] == "t3" and document["primary"]["n"] == "n1a"
    assert document["primary"]["staging_basis"] == "clinical"
    assert document["liver_metastases_diagnosis_date"] == "2025-03-14"
    assert document["labs"] == [{"date": "2025-03-10", "cea_ng_ml": 12.5}]  # µg/L = ng/mL
    assert document["molecular"]["kras"] == "mutant"
    assert document["molecular"]["kras_variant"] == "G12D"
    assert document["treatments"] == [
        {"kind": "procedure", "date": "2025-06-10", "procedure": "hepatectomy"}
    ]
    skipped = [n for n in notes if "skipped" in n]
    assert skipped == [
        "Condition/lung-mets: skipped: its status says refuted, so it is not imported",
        "Observation/cea-typo: skipped: its status says entered in error, so it is not imported",
        "Procedure/ablation-not-done: skipped: its status says not done, so it is not imported",
    ]
    # what has no place in a case is listed item by item, not dropped
    assert any(n.startswith("MedicationRequest/cancer-related-medication-request-cisplatin")
               for n in notes)  # fmt: skip
    assert any("Patient/cancer-patient-john-anyperson: extension" in n for n in notes)
    assert any("performer not mapped" in n for n in notes)
    assert (
        "Observation/cancer-disease-status-improved: not imported: crlmboard derives the "
        "response from the imaging" in notes
    )


def test_the_igs_breast_cancer_bundle_is_refused() -> None:
    message = refusal(ig_example("Bundle-mcode-patient-bundle-jenny-m.json"))
    assert "female left breast" in message and "not colorectal" in message
    assert "nothing was imported" in message


def test_the_igs_genomics_bundle_is_refused_for_want_of_liver_metastases() -> None:
    message = refusal(ig_example("Bundle-gx-genomic-bundle-adam-anyperson.json"))
    assert "no liver metastasis" in message


def test_a_hand_written_breast_bundle_with_liver_metastases_is_refused() -> None:
    breast = condition(
        "breast",
        [{"system": SNOMED, "code": "254837009", "display": "Malignant neoplasm of breast"}],
        meta={"profile": [c.PROFILES["primary"]]},
    )
    bundle = collection(
        ig_example("Patient-cancer-patient-jenny-m.json"), breast, liver_metastases()
    )
    assert "'Malignant neoplasm of breast', not colorectal" in refusal(bundle)


def test_a_colorectal_bundle_without_liver_metastases_is_refused() -> None:
    refuted = liver_metastases()
    refuted["verificationStatus"]["coding"][0]["code"] = "refuted"
    patient = ig_example("Patient-cancer-patient-john-anyperson.json")
    assert "no liver metastasis" in refusal(collection(patient, colon_primary()))
    assert "no liver metastasis" in refusal(collection(patient, colon_primary(), refuted))


def test_an_older_bundle_in_the_former_namespace_reads_as_today() -> None:
    document = json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8"))
    case = case_from_dict(document, TODAY)
    bundle = case_to_bundle(case, as_of=TODAY, profile=default_profile())
    text = json.dumps(bundle)
    for old, new in c.legacy_names().items():
        text = text.replace(f'"{new}"', f'"{old}"')
    text = text.replace('"1187332001"', '"35917007"')  # inactive since 2022
    older = json.loads(text)
    assert "urn:crlmboard:fhir:StructureDefinition:procedure-details" in text
    assert bundle_to_document(older).document == bundle_to_document(bundle).document


# -- no mutation makes the importer fail with anything but a refusal -------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2)
    ),
    max_leaves=4,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


BASE = case_to_bundle(
    case_from_dict(json.loads((GOLDEN / "upfront-resection.json").read_text("utf-8")), TODAY),
    as_of=TODAY,
    profile=default_profile(),
)
PATHS = [p for p in _paths(BASE) if p]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(PATHS), st.sampled_from(["delete", "replace", "wrap"]), JSON_VALUES
        ),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_mutated_bundle_is_read_or_refused_never_crashes(
    mutations: list[tuple[tuple[Any, ...], str, Any]],
) -> None:
    bundle = copy.deepcopy(BASE)
    for path, how, value in mutations:
        parent: Any = bundle
        for step in path[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        last = path[-1]
        if parent is None:
            continue
        try:
            if how == "delete":
                del parent[last]
            elif how == "replace":
                parent[last] = value
            else:
                parent[last] = [parent[last]]
        except (KeyError, IndexError, TypeError):
            continue
    try:
        mapped = bundle_to_document(bundle)
    except InvalidInput as error:
        assert error.problems and all(str(p) for p in error.problems)
        return
    try:
        case_from_dict(mapped.document, TODAY)
    except InvalidInput as error:
        assert error.problems


# -- the preview ------------------------------------------------------------------------------


def test_cli_preview_lists_every_unmapped_item_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(foreign_colorectal_bundle()), "utf-8")
    db = str(tmp_path / "board.sqlite3")
    assert main(["init", "--db", db]) == 0
    assert main(["import", "--db", db, "--preview", str(path)]) == 0
    out = capsys.readouterr().out
    assert "would be imported" in out and "nothing written" in out
    assert "Observation/cea-typo: skipped" in out
    assert "MedicationRequest/cancer-related-medication-request-cisplatin-stopped" in out
    with Board.open(db, clock=lambda: TODAY) as board:
        assert board.cases.count("") == 0


def test_cli_preview_of_a_refused_bundle_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "breast.json"
    path.write_text(json.dumps(ig_example("Bundle-mcode-patient-bundle-jenny-m.json")), "utf-8")
    db = str(tmp_path / "board.sqlite3")
    assert main(["init", "--db", db]) == 0
    assert main(["import", "--db", db, "--preview", str(path)]) == 2
    assert "not colorectal" in capsys.readouterr().err
    assert main(["import", "--db", db, str(path)]) == 2
    err = capsys.readouterr().err
    assert "not colorectal" in err and "Traceback" not in err
