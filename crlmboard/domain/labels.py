"""How coded values read for a person: `folfox` → "FOLFOX", `portal_vein_embolization` →
"Portal vein embolisation".

One table for the app's views and the PDF, so both name a value the same way.  Values not in
the table read as their code with underscores turned into spaces and the first letter capitalised.
"""

from __future__ import annotations

from enum import Enum

VALUE_LABELS: dict[str, str] = {
    # regimens
    "folfox": "FOLFOX",
    "capox": "CAPOX",
    "folfiri": "FOLFIRI",
    "capiri": "CAPIRI",
    "folfoxiri": "FOLFOXIRI",
    "fluorouracil_leucovorin": "5-FU/LV",
    "capecitabine": "Capecitabine",
    "trifluridine_tipiracil": "Trifluridine/tipiracil",
    # biologics
    "none": "none",
    "encorafenib_cetuximab": "Encorafenib + cetuximab",
    "trastuzumab_based": "Trastuzumab-based",
    # immunotherapy
    "nivolumab_ipilimumab": "Nivolumab + ipilimumab",
    # procedures
    "portal_vein_embolization": "Portal vein embolisation",
    "hepatic_artery_infusion": "Hepatic artery infusion",
    "tace": "TACE",
    "debiri": "DEBIRI",
    "radioembolization": "Radioembolisation",
    "thermal_ablation": "Thermal ablation",
    "fiducial_marking": "Fiducial marking",
    "two_stage_first": "Two-stage hepatectomy, first stage",
    "two_stage_second": "Two-stage hepatectomy, second stage",
    "alpps_stage_1": "ALPPS stage 1",
    "alpps_stage_2": "ALPPS stage 2",
    "liver_transplant": "Liver transplant",
    # imaging
    "ct": "CT",
    "mri": "MRI",
    "pet_ct": "PET-CT",
    "intraoperative_ultrasound": "Intraoperative US",
    # molecular and staging
    "wild_type": "wild type",
    "v600e": "V600E",
    "non_v600e": "non-V600E",
    "mss": "MSS",
    "msi_low": "MSI-low",
    "msi_high": "MSI-high",
    "not_amplified": "not amplified",
    "g1": "G1",
    "g2": "G2",
    "g3": "G3",
    "tx": "TX",
    "t0": "T0",
    "tis": "Tis",
    "t1": "T1",
    "t2": "T2",
    "t3": "T3",
    "t4a": "T4a",
    "t4b": "T4b",
    "nx": "NX",
    "n0": "N0",
    "n1a": "N1a",
    "n1b": "N1b",
    "n1c": "N1c",
    "n2a": "N2a",
    "n2b": "N2b",
    "hepatic_flexure": "Hepatic flexure",
    "splenic_flexure": "Splenic flexure",
    "signet_ring": "Signet ring",
    "early_metachronous": "Early metachronous",
    "late_metachronous": "Late metachronous",
    # plan and outcomes
    "upfront_resection": "Upfront resection",
    "perioperative_chemotherapy": "Perioperative chemotherapy",
    "conversion_chemotherapy": "Conversion chemotherapy",
    "two_stage_hepatectomy": "Two-stage hepatectomy",
    "alpps": "ALPPS",
    "resection_plus_ablation": "Resection plus ablation",
    "transplant_evaluation": "Transplant evaluation",
    "palliative_systemic": "Palliative systemic therapy",
    "not_applicable": "not applicable",
    "colon_first": "Colon first",
    "liver_first": "Liver first",
    "non_anatomical": "Non-anatomical",
    "r0": "R0",
    "r1": "R1",
    "r2": "R2",
    "i": "I",
    "ii": "II",
    "iiia": "IIIa",
    "iiib": "IIIb",
    "iva": "IVa",
    "ivb": "IVb",
    "v": "V",
    "hepatic_pedicle_nodes": "Hepatic pedicle nodes",
    "para_aortic_nodes": "Para-aortic nodes",
    # roles
    "hepatobiliary_surgeon": "Hepatobiliary surgeon",
    "colorectal_surgeon": "Colorectal surgeon",
    "medical_oncologist": "Medical oncologist",
    "radiation_oncologist": "Radiation oncologist",
    "interventional_radiologist": "Interventional radiologist",
    "specialist_nurse": "Specialist nurse",
    # facts
    "injured_liver": "injured liver (steatosis or steatohepatitis)",
    "extensive_chemotherapy": "extensive preoperative chemotherapy",
    "normal": "normal liver",
}

RESPONSE_LABELS: dict[str, str] = {
    "CR": "complete response",
    "PR": "partial response",
    "SD": "stable disease",
    "NN": "non-CR/non-PD (non-target disease only)",
    "PD": "progressive disease",
    "NE": "not evaluable",
}


SCORE_CRITERIA: dict[str, str] = {
    "node_positive": "node-positive primary",
    "disease_free_interval_under_12_months": "disease-free interval < 12 months",
    "more_than_one_lesion": "more than one lesion",
    "largest_over_50_mm": "largest > 50 mm",
    "cea_over_200": "CEA > 200 ng/mL",
    "kras_mutant": "KRAS mutant",
    "cea_20_or_more": "CEA ≥ 20 ng/mL",
    "tumor_burden_score": "tumour burden score",
    "extrahepatic_disease": "extrahepatic disease",
    "ras_mutant": "RAS mutant",
}

SCORE_INPUTS: dict[str, str] = {
    "node_positive": "nodal status of the primary",
    "disease_free_interval_months": "disease-free interval (date of the primary's resection)",
    "lesion_count": "number of liver lesions",
    "largest_diameter_mm": "largest lesion's diameter",
    "cea_latest": "latest CEA",
    "kras": "KRAS status",
    "ras_status": "RAS status",
    "tumor_burden_score": "tumour burden score (lesion count and largest diameter)",
    "extrahepatic_disease": "extrahepatic disease",
}


def score_criterion_text(name: str) -> str:
    """A risk score's criterion in the clinic's words (`largest_over_50_mm`: largest > 50 mm)."""
    return SCORE_CRITERIA.get(name, name.replace("_", " "))


def score_input_text(name: str) -> str:
    """An input a risk score lacks, in the clinic's words (`cea_latest`: latest CEA)."""
    return SCORE_INPUTS.get(name, name.replace("_", " "))


def response_text(code: str | None, empty: str = "—") -> str:
    """A RECIST category with its meaning, e.g. `NN (non-CR/non-PD (non-target disease only))`
    reads `NN — non-CR/non-PD (non-target disease only)`."""
    if not code:
        return empty
    label = RESPONSE_LABELS.get(code)
    return f"{code} — {label}" if label else code


def value_label(value: str | Enum | None, empty: str = "—") -> str:
    """The display text of a coded value (`empty` when there is none)."""
    if value is None:
        return empty
    code = str(value.value) if isinstance(value, Enum) else str(value)
    if code in VALUE_LABELS:
        return VALUE_LABELS[code]
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]
