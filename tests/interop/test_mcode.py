"""mCODE bundles: structural validity (fhir.resources R4B), the project's profile checks,
the content of the main resources, and the round trip back to a case."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict, case_to_dict, loads_case, normalised
from crlmboard.domain.engine import Profile, evaluate
from crlmboard.domain.validation import InvalidInput
from crlmboard.interop import codes as c
from crlmboard.interop.mcode import case_to_bundle, covered, resource_id
from crlmboard.interop.mcode_import import bundle_to_document
from crlmboard.services.evaluation import default_profile
from tests.conftest import TODAY, golden_cases
from tests.fhirconformance.validator import Validator
from tests.strategies import valid_case

DEMO = Path(__file__).parents[2] / "crlmboard" / "resources" / "demo"
CASE_FILES = sorted(DEMO.glob("*.json")) + golden_cases()
PROFILE = default_profile()
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


def load(path: Path) -> Case:
    return loads_case(path.read_text("utf-8"), TODAY)


def export(case: Case, profile: Profile = PROFILE) -> dict[str, Any]:
    # through JSON, as a file would carry it
    return json.loads(json.dumps(case_to_bundle(case, as_of=TODAY, profile=profile)))


def resources(bundle: dict[str, Any], profile: str) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if c.PROFILES[profile] in e["resource"]["meta"]["profile"]
    ]


def by_url(bundle: dict[str, Any], reference: dict[str, str]) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == reference["reference"])


def round_trip(case: Case) -> tuple[Case, list[str]]:
    mapped = bundle_to_document(export(case))
    return case_from_dict(mapped.document, TODAY), mapped.notes


# -- every demo case and golden example ---------------------------------------------------


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_every_bundle_conforms_to_the_published_mcode_4_0_0(
    fhir_validator: Validator, path: Path
) -> None:
    case = load(path)
    bundle = export(case)
    parsed = Bundle.model_validate(bundle)  # structural validity (R4B models)
    assert parsed.type == "collection"
    assert len(parsed.entry) == len(bundle["entry"])
    assert bundle["meta"]["profile"] == [MCODE + "mcode-patient-bundle"]
    assert errors_of(fhir_validator, bundle) == []


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_every_bundle_reads_back_to_the_same_case(path: Path) -> None:
    case = load(path)
    again, notes = round_trip(case)
    assert notes == []
    assert normalised(covered(case_to_dict(again))) == normalised(covered(case_to_dict(case)))


def test_export_is_deterministic() -> None:
    case = load(DEMO / "DEMO-0004-progression-on-chemotherapy.json")
    first, second = export(case), export(case)
    assert first == second
    assert first["id"] == resource_id("DEMO-0004", "Bundle")
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in first["entry"])


# -- content ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conversion() -> tuple[Case, dict[str, Any]]:
    case = load(DEMO / "DEMO-0003-conversion-resected.json")
    return case, export(case)


def test_patient_carries_the_mrn_and_ecog(conversion: tuple[Case, dict[str, Any]]) -> None:
    _, bundle = conversion
    (patient,) = resources(bundle, "patient")
    assert patient["identifier"][0]["value"] == "DEMO-0003"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert patient["gender"] == "male" and patient["birthDate"] == "1958-01-23"
    (ecog,) = resources(bundle, "ecog")
    assert ecog["valueInteger"] == 1
    assert ecog["code"]["coding"][0] == c.ECOG.coding()


def test_conditions_and_tnm_stage(conversion: tuple[Case, dict[str, Any]]) -> None:
    _, bundle = conversion
    (primary,) = resources(bundle, "primary")
    assert primary["bodySite"][0]["coding"][0]["code"] == "32622004"  # descending colon
    assert primary["onsetDateTime"] == "2026-02-16"
    histology = primary["extension"][0]["valueCodeableConcept"]["coding"]
    assert {"system": c.ICDO3, "code": "8140/3", "display": "Adenocarcinoma, NOS"} in histology
    (secondary,) = resources(bundle, "secondary")
    assert secondary["code"]["coding"][0]["code"] == c.LIVER_METASTASES.code
    assert by_url(bundle, secondary["extension"][0]["valueReference"]) is primary
    (group,) = resources(bundle, "stage_group")
    assert by_url(bundle, primary["stage"][0]["assessment"][0]) is group
    assert group["code"]["coding"][0]["code"] == "399588009"  # pathologic stage grouping
    assert group["valueCodeableConcept"]["coding"][0]["code"] == "4A"
    members = [
        by_url(bundle, m)["valueCodeableConcept"]["coding"][0]["code"] for m in group["hasMember"]
    ]
    assert members == ["pT3", "pN1a", "cM1a"]


def test_molecular_results_in_a_genomics_report(conversion: tuple[Case, dict[str, Any]]) -> None:
    _, bundle = conversion
    (report,) = resources(bundle, "genomics_report")
    results = [by_url(bundle, r) for r in report["result"]]
    variants = [r for r in results if c.PROFILES["genomic_variant"] in r["meta"]["profile"]]
    genes = [v["component"][0]["valueCodeableConcept"]["coding"][0]["code"] for v in variants]
    assert genes == ["HGNC:6407", "HGNC:7989", "HGNC:1097"]
    assert all(
        v["valueCodeableConcept"]["coding"][0]["code"] == c.ABSENT.code for v in variants
    )  # all wild type
    markers = {
        r["code"]["coding"][0]["code"]: r["valueCodeableConcept"]["coding"][0]["code"]
        for r in results
        if c.PROFILES["tumor_marker"] in r["meta"]["profile"]
    }
    assert markers == {"81695-9": "LA14122-8", "mmr-ihc": "proficient", "48676-1": "LA6577-6"}


def test_every_cea_value_is_a_tumor_marker_test(conversion: tuple[Case, dict[str, Any]]) -> None:
    case, bundle = conversion
    cea = [
        r for r in resources(bundle, "tumor_marker") if r["code"]["coding"][0]["code"] == c.CEA.code
    ]
    assert [(r["effectiveDateTime"], r["valueQuantity"]["value"]) for r in cea] == [
        (lab.date.isoformat(), lab.cea_ng_ml) for lab in case.labs
    ]
    assert all(r["valueQuantity"]["code"] == "ng/mL" for r in cea)


def test_each_drug_of_each_cycle_is_an_administration(
    conversion: tuple[Case, dict[str, Any]],
) -> None:
    _, bundle = conversion
    given = resources(bundle, "medication")
    assert len(given) == 8 * 4  # 8 cycles of FOLFOX + panitumumab
    first = [g["medicationCodeableConcept"]["coding"][0]["code"] for g in given[:4]]
    assert first == ["32592", "6313", "4492", "263034"]
    assert {g["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] for g in given} == {
        "373808002"
    }  # conversion: curative intent
    (secondary,) = resources(bundle, "secondary")
    assert all(by_url(bundle, g["reasonReference"][0]) is secondary for g in given)


def test_procedures_name_their_reason(conversion: tuple[Case, dict[str, Any]]) -> None:
    _, bundle = conversion
    colectomy, hepatectomy = resources(bundle, "procedure")
    assert colectomy["code"]["coding"][0]["code"] == "23968004"
    assert hepatectomy["code"]["coding"][0]["code"] == "107963000"
    assert by_url(bundle, colectomy["reasonReference"][0]) is resources(bundle, "primary")[0]
    assert by_url(bundle, hepatectomy["reasonReference"][0]) is resources(bundle, "secondary")[0]


def test_tumor_sizes_and_recist_per_timepoint(conversion: tuple[Case, dict[str, Any]]) -> None:
    case, bundle = conversion
    tumors = resources(bundle, "tumor")
    assert [t["identifier"][0]["value"] for t in tumors] == ["L1", "L2", "L3", "L4", "L5"]
    sizes = resources(bundle, "tumor_size")
    assert len(sizes) == sum(len(tp.lesions) for tp in case.imaging)
    first = sizes[0]
    assert by_url(bundle, first["focus"][0])["identifier"][0]["value"] == "L1"
    assert first["component"][0]["valueQuantity"] == {
        "value": 58,
        "unit": "mm",
        "system": c.UCUM,
        "code": "mm",
    }
    assert resources(bundle, "disease_status") == []  # a new episode: nothing assessed yet


def test_recist_per_timepoint_is_the_engines() -> None:
    case = load(DEMO / "DEMO-0004-progression-on-chemotherapy.json")
    bundle = export(case)
    statuses = resources(bundle, "disease_status")
    facts = evaluate(case, TODAY, PROFILE).facts
    assert [(s["effectiveDateTime"], s["valueCodeableConcept"]["text"]) for s in statuses] == [
        ("2026-07-13", "RECIST 1.1 SD"),
        ("2026-09-07", "RECIST 1.1 SD"),
        ("2026-11-16", "RECIST 1.1 PD"),
    ]
    assert len(statuses) == len(facts.recist)
    assert statuses[-1]["valueCodeableConcept"]["coding"][0]["code"] == "271299001"  # worse
    assert statuses[-1]["note"][0]["text"].startswith("RECIST 1.1: PD.")
    study = by_url(bundle, statuses[-1]["derivedFrom"][0])
    assert study["resourceType"] == "ImagingStudy" and study["started"] == "2026-11-16"


def test_nn_is_exported_as_stable() -> None:
    """Non-target-only disease (RECIST NN, non-CR/non-PD) maps to "condition stable"."""
    case = load(DEMO / "DEMO-0022-non-target-disease-capox.json")
    statuses = resources(export(case), "disease_status")
    assert [s["valueCodeableConcept"]["text"] for s in statuses] == ["RECIST 1.1 NN"]
    assert statuses[0]["valueCodeableConcept"]["coding"][0]["code"] == "359746009"  # stable
    assert "non-CR/non-PD" in statuses[0]["note"][0]["text"]


def test_a_signed_review_is_a_care_plan(fhir_validator: Validator, upfront: dict[str, Any]) -> None:
    upfront["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "question": "Resect?",
            "recommendation": "upfront_resection",
            "decision": "Laparoscopic wedge of segment 6.",
            "actions": [{"text": "Book theatre", "owner": "HPB", "due": "2025-02-20"}],
            "next_review_date": "2025-04-01",
            "attendees": [{"name": "A. Surgeon", "role": "hepatobiliary_surgeon"}],
            "signed_by": "A. Surgeon",
            "signed_at": "2025-02-04T17:42:00Z",
            "evaluation": {"input_sha256": "ab" * 32},
        },
        {"meeting_date": "2025-02-11", "decision": "Not signed yet."},
    ]
    case = case_from_dict(upfront, TODAY)
    bundle = export(case)
    (plan,) = resources(bundle, "care_plan")
    assert plan["status"] == "active" and plan["intent"] == "plan"
    assert plan["author"] == {"display": "A. Surgeon"}
    assert plan["created"] == "2025-02-04T17:42:00Z"
    assert plan["identifier"][1] == {"system": c.EVALUATION_INPUT_SYSTEM, "value": "ab" * 32}
    assert [a["detail"]["code"]["coding"][0]["code"] for a in plan["activity"]] == [
        "upfront_resection",
        "action",
        "next-review",
    ]
    assert errors_of(fhir_validator, bundle) == []
    again, notes = round_trip(case)
    assert notes == []
    assert normalised(covered(case_to_dict(again))) == normalised(covered(case_to_dict(case)))


# -- the checks catch what they should ----------------------------------------------------


@pytest.fixture
def good() -> tuple[Case, dict[str, Any]]:
    case = load(DEMO / "DEMO-0005-ras-mutant-cetuximab.json")
    return case, export(case)


def entry_of(bundle: dict[str, Any], profile: str) -> dict[str, Any]:
    return resources(bundle, profile)[0]


def errors_of(validator: Validator, bundle: dict[str, Any]) -> list[str]:
    return [str(e) for e in validator.validate(bundle).errors]


def test_a_dangling_reference_is_caught(
    fhir_validator: Validator, good: tuple[Case, dict[str, Any]]
) -> None:
    _, bundle = good
    entry_of(bundle, "medication")["reasonReference"][0]["reference"] = (
        "urn:uuid:00000000-0000-4000-8000-000000000000"
    )
    errors = errors_of(fhir_validator, bundle)
    assert any("reasonReference" in e and "is not in the bundle" in e for e in errors), errors


@pytest.mark.parametrize(
    "breakage",
    [
        "reference to the wrong profile",
        "required element",
        "profile on the wrong resource",
        "valueless tumor marker",
    ],
)
def test_departures_from_the_published_profiles_are_caught(
    fhir_validator: Validator, good: tuple[Case, dict[str, Any]], breakage: str
) -> None:
    _, bundle = good
    assert errors_of(fhir_validator, bundle) == []
    if breakage == "reference to the wrong profile":
        size = entry_of(bundle, "tumor_size")
        size["focus"] = [
            {
                "reference": next(
                    e["fullUrl"]
                    for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "Patient"
                )
            }
        ]
    elif breakage == "required element":
        del entry_of(bundle, "stage_group")["code"]
    elif breakage == "valueless tumor marker":
        marker = entry_of(bundle, "tumor_marker")
        for key in [k for k in marker if k.startswith("value")]:
            del marker[key]
        marker["dataAbsentReason"] = c.UNKNOWN.concept()  # what an unknown MSI used to be
    else:
        entry_of(bundle, "tumor")["meta"]["profile"] = [c.PROFILES["tumor_size"]]
    assert errors_of(fhir_validator, bundle) != []


# -- import -------------------------------------------------------------------------------


def test_what_a_case_cannot_hold_is_listed_not_dropped(upfront: dict[str, Any]) -> None:
    bundle = export(case_from_dict(upfront, TODAY))
    patient = resources(bundle, "patient")[0]
    patient["telecom"] = [{"system": "phone", "value": "+1 555 0100"}]
    patient_ref = {
        "reference": next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is patient)
    }
    bundle["entry"] += [
        {
            "fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
            "resource": {
                "resourceType": "Observation",
                "id": "11111111-1111-4111-8111-111111111111",
                "status": "final",
                "code": {"coding": [{"system": c.LOINC, "code": "718-7"}]},
                "subject": patient_ref,
                "valueQuantity": {"value": 12.1},
            },
        },
        {
            "fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
            "resource": {
                "resourceType": "MedicationAdministration",
                "id": "22222222-2222-4222-8222-222222222222",
                "status": "completed",
                "medicationCodeableConcept": c.DRUGS["oxaliplatin"].concept(),
                "subject": patient_ref,
                "effectiveDateTime": "2025-01-01",
            },
        },
        {
            "fullUrl": "urn:uuid:33333333-3333-4333-8333-333333333333",
            "resource": {
                "resourceType": "Encounter",
                "id": "33333333-3333-4333-8333-333333333333",
                "status": "finished",
                "class": {"code": "AMB"},
            },
        },
    ]
    mapped = bundle_to_document(bundle)
    assert any("telecom not mapped" in n for n in mapped.notes)
    assert any("11111111" in n and "Observation not mapped" in n for n in mapped.notes)
    assert any("22222222" in n and "oxaliplatin" in n for n in mapped.notes)
    assert any("Encounter" in n for n in mapped.notes)
    assert len(mapped.notes) == 4
    again = case_from_dict(mapped.document, TODAY)
    assert again.mrn == upfront["patient"]["mrn"]


def test_a_bundle_goes_through_the_case_file_validation(upfront: dict[str, Any]) -> None:
    bundle = export(case_from_dict(upfront, TODAY))
    resources(bundle, "ecog")[0]["valueInteger"] = 7
    with pytest.raises(InvalidInput) as caught:
        case_from_dict(bundle_to_document(bundle).document, TODAY)
    assert [str(p) for p in caught.value.problems] == ["patient.ecog: must be ≤ 4"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"resourceType": "Patient"}, "must be 'Bundle'"),
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, "exactly one Patient"),
    ],
)
def test_not_one_patients_bundle_is_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        bundle_to_document(data)
    assert message in str(caught.value)


# -- round trip by hypothesis -------------------------------------------------------------

signed = st.fixed_dictionaries(
    {
        "signed_by": st.text(
            st.characters(whitelist_categories=["Lu", "Ll"]), min_size=1, max_size=12
        ),
        "signed_at": st.datetimes(
            min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1)
        ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    }
)


@st.composite
def cases_with_signed_reviews(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(draw(valid_case))
    for review in document.get("reviews", []):
        review.pop("amends", None)
        if draw(st.booleans()):
            review.update(draw(signed))
    return document


@given(cases_with_signed_reviews())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_export_then_import_gives_back_every_covered_field(document: dict[str, Any]) -> None:
    case = case_from_dict(document, TODAY)
    again, notes = round_trip(case)
    assert notes == []
    assert normalised(covered(case_to_dict(again))) == normalised(covered(case_to_dict(case)))


@given(cases_with_signed_reviews())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_bundles_conform_to_the_published_mcode(
    fhir_validator: Validator, document: dict[str, Any]
) -> None:
    bundle = export(case_from_dict(document, TODAY))
    Bundle.model_validate(bundle)
    assert errors_of(fhir_validator, bundle) == []


def test_as_of_date_matters_only_for_the_engine() -> None:
    case = load(DEMO / "DEMO-0001-upfront-resection.json")
    early = case_to_bundle(case, as_of=date(2026, 1, 1), profile=PROFILE)
    late = case_to_bundle(case, as_of=TODAY, profile=PROFILE)
    strip = [
        e
        for e in early["entry"]
        if c.PROFILES["disease_status"] not in e["resource"]["meta"]["profile"]
    ]
    assert strip == [
        e
        for e in late["entry"]
        if c.PROFILES["disease_status"] not in e["resource"]["meta"]["profile"]
    ]
