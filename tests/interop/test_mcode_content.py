"""What issue 22 asked of the export, one behaviour per test: dating, HGVS, gender, the
site's MRN system, tumour-size method, the tumour's related condition, undetermined markers,
and what a round trip used to lose (M1b/M1c and IVB/IVC, a signed review's rationale and hash,
the primary's resection)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crlmboard.cli import main
from crlmboard.domain.caseformat import case_from_dict, case_to_dict
from crlmboard.domain.validation import InvalidInput
from crlmboard.interop import codes as c
from crlmboard.interop.mcode import case_to_bundle, review_sha256
from crlmboard.interop.mcode_import import bundle_to_document
from crlmboard.services import Board
from crlmboard.services.evaluation import default_profile
from tests.conftest import TODAY
from tests.fhirconformance.validator import Validator

PROFILE = default_profile()
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


def export(document: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    case = case_from_dict(document, TODAY)
    return json.loads(json.dumps(case_to_bundle(case, as_of=TODAY, profile=PROFILE, **kwargs)))


def of_profile(bundle: dict[str, Any], name: str) -> list[dict[str, Any]]:
    url = c.PROFILES[name]
    return [e["resource"] for e in bundle["entry"] if url in e["resource"]["meta"]["profile"]]


def again(bundle: dict[str, Any]) -> dict[str, Any]:
    """The case document a bundle reads back as (through the case validation)."""
    case = case_from_dict(bundle_to_document(bundle).document, TODAY)
    return case_to_dict(case)


def test_each_tnm_observation_is_dated_at_what_it_describes(upfront: dict[str, Any]) -> None:
    bundle = export(upfront)
    dates = {
        name: [r.get("effectiveDateTime") for r in of_profile(bundle, name)]
        for name in ("t_category", "n_category", "m_category", "stage_group")
    }
    # T and N: the primary, diagnosed 2023-02-20; M1 and stage IV: the liver metastases, 2025
    assert dates == {
        "t_category": ["2023-02-20"],
        "n_category": ["2023-02-20"],
        "m_category": ["2025-01-20"],
        "stage_group": ["2025-01-20"],
    }
    for name in ("t_category", "stage_group"):
        (observation,) = of_profile(bundle, name)
        assert observation["category"] == [c.LABORATORY.concept()]  # pathological staging


def test_protein_changes_are_hgvs_on_the_refseq_protein(upfront: dict[str, Any]) -> None:
    upfront["molecular"].update(kras="mutant", kras_variant="G12D", braf="v600e")
    bundle = export(upfront)
    changes = {}
    for variant in of_profile(bundle, "genomic_variant"):
        gene = variant["component"][0]["valueCodeableConcept"]["coding"][0]["display"]
        for component in variant["component"][1:]:
            changes[gene] = component["valueCodeableConcept"]["coding"][0]["code"]
    assert changes == {"KRAS": "NP_004976.2:p.(Gly12Asp)", "BRAF": "NP_004324.2:p.(Val600Glu)"}
    molecular = again(bundle)["molecular"]
    assert molecular["kras_variant"] == "G12D" and molecular["braf"] == "v600e"
    # a bundle from elsewhere without the text reads the HGVS itself
    for variant in of_profile(bundle, "genomic_variant"):
        for component in variant["component"]:
            component["valueCodeableConcept"].pop("text", None)
    assert again(bundle)["molecular"]["kras_variant"] == "G12D"


def test_a_sex_not_recorded_is_gender_unknown(upfront: dict[str, Any]) -> None:
    del upfront["patient"]["sex"]
    (patient,) = of_profile(export(upfront), "patient")
    assert patient["gender"] == "unknown" and "_gender" not in patient


def test_the_tumor_size_method_is_the_imaging_modality(upfront: dict[str, Any]) -> None:
    method = {"ct": "77477000", "mri": "113091000", "pet_ct": "82918005"}
    expected = {tp["date"]: method[tp["modality"]] for tp in upfront["imaging"]}
    sizes = of_profile(export(upfront), "tumor_size")
    assert sizes
    for size in sizes:
        assert size["method"]["coding"][0]["code"] == expected[size["effectiveDateTime"]]


def test_a_tumor_names_its_condition_with_the_mcode_extension(upfront: dict[str, Any]) -> None:
    bundle = export(upfront)
    (secondary,) = of_profile(bundle, "secondary")
    for tumor in of_profile(bundle, "tumor"):
        assert [e["url"] for e in tumor["extension"]] == [MCODE + "mcode-related-condition"]
        assert tumor["extension"][0]["valueReference"]["reference"].endswith(secondary["id"])


def test_an_undetermined_marker_is_no_valueless_test(
    fhir_validator: Validator, upfront: dict[str, Any]
) -> None:
    upfront["molecular"].update(msi="unknown", her2="unknown")
    bundle = export(upfront)
    tests = {r["code"]["coding"][0]["code"] for r in of_profile(bundle, "tumor_marker")}
    assert c.MSI.code not in tests and c.HER2.code not in tests
    assert all("valueCodeableConcept" in r or "valueQuantity" in r
               for r in of_profile(bundle, "tumor_marker"))  # fmt: skip
    assert fhir_validator.validate(bundle).errors == []
    molecular = again(bundle)["molecular"]
    assert molecular["msi"] == "unknown" and molecular["her2"] == "unknown"


def test_extrahepatic_disease_keeps_m1c_and_stage_ivc(
    fhir_validator: Validator, upfront: dict[str, Any]
) -> None:
    upfront["extrahepatic_disease"] = [
        {"site": "peritoneum", "detected_on": "2025-01-20", "resectable": True},
        {"site": "lung"},
    ]
    bundle = export(upfront)
    assert fhir_validator.validate(bundle).errors == []
    (m,) = of_profile(bundle, "m_category")
    (stage,) = of_profile(bundle, "stage_group")
    assert m["valueCodeableConcept"]["coding"][0]["code"] == "cM1c"
    assert stage["valueCodeableConcept"]["coding"][0]["code"] == "4C"
    read = again(bundle)
    assert read["extrahepatic_disease"] == upfront["extrahepatic_disease"]
    # and the bundle written again says the same
    second = export(read)
    (m2,) = of_profile(second, "m_category")
    (stage2,) = of_profile(second, "stage_group")
    assert m2["valueCodeableConcept"] == m["valueCodeableConcept"]
    assert stage2["valueCodeableConcept"] == stage["valueCodeableConcept"]


def test_a_foreign_m1c_without_its_sites_is_said_in_the_notes(upfront: dict[str, Any]) -> None:
    upfront["extrahepatic_disease"] = [{"site": "peritoneum"}]
    bundle = export(upfront)
    for secondary in of_profile(bundle, "secondary"):
        secondary["extension"] = [
            e for e in secondary["extension"] if e["url"] != c.EXTRAHEPATIC_DISEASE_EXTENSION
        ]
    notes = bundle_to_document(bundle).notes
    assert any("cM1c as sent" in n for n in notes), notes
    assert any("4C as sent" in n for n in notes), notes


def test_a_signed_review_reads_back_whole_with_the_same_hash(upfront: dict[str, Any]) -> None:
    upfront["reviews"] = [
        {
            "meeting_date": "2025-02-04",
            "question": "Resect?",
            "recommendation": "upfront_resection",
            "decision": "Laparoscopic wedge of segment 6.",
            "rationale": "Single lesion, R0 expected, FLR ample.",
            "signed_by": "A. Surgeon",
            "signed_at": "2025-02-04T17:42:00Z",
            "follow_up": {"status": "done", "recorded_on": "2025-03-01"},
            "evaluation": {"input_sha256": "ab" * 32, "profile": "default"},
        }
    ]
    bundle = export(upfront)
    (plan,) = of_profile(bundle, "care_plan")
    read = again(bundle)
    assert read["reviews"][0]["rationale"] == "Single lesion, R0 expected, FLR ample."
    (plan_again,) = of_profile(export(read), "care_plan")
    assert plan_again["identifier"] == plan["identifier"]
    case = case_from_dict(upfront, TODAY)
    assert plan["identifier"][0]["value"] == review_sha256(case.reviews[0])


def test_the_primary_resection_is_a_procedure(upfront: dict[str, Any]) -> None:
    upfront["treatments"] = [t for t in upfront["treatments"] if t.get("kind") != "procedure"]
    bundle = export(upfront)
    procedures = of_profile(bundle, "procedure")
    resection = [p for p in procedures if p.get("performedDateTime") == "2023-03-10"]
    assert len(resection) == 1
    assert resection[0]["code"]["coding"][0]["code"] == "23968004"  # sigmoid: colectomy
    assert again(bundle)["primary"]["resection_date"] == "2023-03-10"


def test_the_mrn_system_is_the_sites(board: Board, upfront: dict[str, Any]) -> None:
    board.cases.import_document(upfront)
    default = board.interop.export_fhir("EX-0001")
    assert of_profile(default, "patient")[0]["identifier"][0]["system"] == c.MRN_SYSTEM
    board.interop.set_mrn_system("urn:oid:1.2.826.0.1.3680043.2.1125")
    (patient,) = of_profile(board.interop.export_fhir("EX-0001"), "patient")
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.826.0.1.3680043.2.1125"
    with pytest.raises(InvalidInput) as caught:
        board.interop.set_mrn_system("urn:crlmboard:mrn")
    assert "urn:oid:" in str(caught.value.problems[0])
    assert board.interop.mrn_system() == "urn:oid:1.2.826.0.1.3680043.2.1125"


def test_cli_sets_the_mrn_system_and_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "b.sqlite3")
    assert main(["init", "--db", db]) == 0
    capsys.readouterr()
    assert main(["mrn-system", "--db", db, "https://hospital.example.org/mrn"]) == 0
    assert capsys.readouterr().out.strip() == "https://hospital.example.org/mrn"
    assert main(["mrn-system", "--db", db, "not a uri"]) == 2
    assert "urn:oid:" in capsys.readouterr().err
    assert main(["mrn-system", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == "https://hospital.example.org/mrn"


def test_engine_response_nn_is_stable() -> None:
    assert c.RECIST_TREND["NN"] == c.RECIST_TREND["SD"]


def test_a_bare_signed_review_has_no_empty_extension(
    fhir_validator: Validator, upfront: dict[str, Any]
) -> None:
    upfront["reviews"] = [
        {"meeting_date": "2024-01-01", "signed_by": "A", "signed_at": "2024-01-01T00:00:00Z"}
    ]
    bundle = export(upfront)
    (plan,) = of_profile(bundle, "care_plan")
    assert "extension" not in plan
    assert fhir_validator.validate(bundle).errors == []
