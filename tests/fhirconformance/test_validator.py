"""The validator against the published packages: the IG's own examples pass, and each kind of
departure it claims to check is caught."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fhirconformance.packages import fetch_all
from tests.fhirconformance.validator import Validator

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


def ig_examples() -> list[Path]:
    return sorted((fetch_all()["hl7.fhir.us.mcode"] / "example").glob("*.json"))


def ig_example(name: str) -> dict[str, Any]:
    folder = fetch_all()["hl7.fhir.us.mcode"] / "example"
    data: dict[str, Any] = json.loads((folder / name).read_text("utf-8"))
    return data


def test_every_example_of_the_ig_passes(fhir_validator: Validator) -> None:
    examples = ig_examples()
    assert len(examples) > 150  # the whole folder, resources and bundles
    failures = {}
    for path in examples:
        errors = fhir_validator.validate(json.loads(path.read_text("utf-8"))).errors
        if errors:
            failures[path.name] = [str(e) for e in errors]
    assert failures == {}


def test_the_ig_bundle_passes_as_an_mcode_patient_bundle(fhir_validator: Validator) -> None:
    bundle = ig_example("Bundle-mcode-patient-bundle-jenny-m.json")
    report = fhir_validator.validate(bundle, [MCODE + "mcode-patient-bundle"])
    assert report.errors == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(resource: dict[str, Any]) -> None:
        *head, last = path.split(".")
        target: Any = resource
        for step in head:
            target = target[int(step)] if step.isdigit() else target[step]
        if value is None:
            del target[last]
        else:
            target[last] = value

    return change


BREAKAGES: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = [
    # (example, what, change, expected words in an error)
    (
        "Observation-tnm-clinical-stage-group-3c.json",
        "cardinality",
        _set("status", None),
        "status: at least 1 required",
    ),
    (
        "Observation-tnm-clinical-stage-group-3c.json",
        "unknown element",
        _set("colour", "blue"),
        "is not an element of Observation",
    ),
    (
        "Observation-tnm-clinical-stage-group-3c.json",
        "required binding",
        _set("status", "done"),
        "not in the required value set",
    ),
    (
        "Observation-tnm-clinical-stage-group-3c.json",
        "primitive type",
        _set("effectiveDateTime", "2019-13-45"),
        "is not a valid dateTime",
    ),
    (
        "Observation-tnm-clinical-stage-group-3c.json",
        "choice type",
        _set("valueBoolean", True),
        "type Boolean is not allowed",
    ),
    (
        "MedicationAdministration-cancer-related-medication-admin-doxorubicin-jenny-m.json",
        "invariant",
        _set("dosage", {"text": "as planned"}),
        "mad-1",
    ),
    (
        "BodyStructure-tumor-lobular-carcinoma-left-breast.json",
        "extension context",
        _set(
            "extension",
            [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/condition-related",
                    "valueReference": {"reference": "Condition/primary-cancer-condition-breast"},
                }
            ],
        ),
        "is not allowed on BodyStructure",
    ),
    (
        "DiagnosticReport-genomics-report-jenny-m.json",
        "slice cardinality",
        _set("category", [{"coding": [{"system": "http://loinc.org", "code": "LP29684-5"}]}]),
        "Genetics: at least 1 required",
    ),
    (
        "Patient-cancer-patient-jenny-m.json",
        "extension definition",
        _set(
            "extension",
            [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                    "valueCode": "nope",
                }
            ],
        ),
        "not in the required value set",
    ),
]


@pytest.mark.parametrize("example,what,change,words", BREAKAGES, ids=[b[1] for b in BREAKAGES])
def test_each_kind_of_departure_is_caught(
    fhir_validator: Validator,
    example: str,
    what: str,
    change: Callable[[dict[str, Any]], None],
    words: str,
) -> None:
    resource = ig_example(example)
    assert fhir_validator.validate(resource).errors == []
    broken = copy.deepcopy(resource)
    change(broken)
    errors = [str(e) for e in fhir_validator.validate(broken).errors]
    assert errors, what
    assert any(words in e for e in errors), errors


def test_a_reference_to_the_wrong_profile_is_caught(fhir_validator: Validator) -> None:
    bundle = ig_example("Bundle-mcode-patient-bundle-jenny-m.json")
    assert fhir_validator.validate(bundle).errors == []
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["meta"]["profile"] = []
            del entry["resource"]["gender"]  # no longer a cancer patient (gender 1..1)
    errors = [str(e) for e in fhir_validator.validate(bundle).errors]
    assert any("is not one of" in e and "mcode-cancer-patient" in e for e in errors), errors


def test_a_pattern_is_caught(fhir_validator: Validator) -> None:
    bundle = ig_example("Bundle-mcode-patient-bundle-jenny-m.json")
    bundle["type"] = "searchset"  # the patient bundle's type is the pattern "collection"
    errors = [
        str(e) for e in fhir_validator.validate(bundle, [MCODE + "mcode-patient-bundle"]).errors
    ]
    assert any("must match" in e and "collection" in e for e in errors), errors
