"""The rule catalogue: every rule with its metadata, and the sources with full references.

One structure serves the case view, the PDF and `crlmboard rules [--json]`: `catalogue(profile)`
lists each rule's id, group, severity, fixed title, description, the profile keys it reads
(with their values in the profile given) and its sources with full references.
"""

from __future__ import annotations

import json
from typing import Any

from crlmboard.domain.engine.profile import PROFILE_KEY_BY_NAME, Profile
from crlmboard.domain.engine.rules import (
    SEVERITY_ORDER,
    Rule,
    data,
    pathway,
    regimen,
    response,
    surgery,
    timing,
)
from crlmboard.domain.engine.rules import score as score_rules

ENGINE_VERSION = "1.1.0"
"""Version of the rule set and fact definitions; bumped whenever an output can change."""

GROUPS: tuple[str, ...] = ("DATA", "REGIMEN", "PATHWAY", "TIMING", "RESPONSE", "SURGERY", "SCORE")

RULES: tuple[Rule, ...] = (
    data.RULES
    + regimen.RULES
    + pathway.RULES
    + timing.RULES
    + response.RULES
    + surgery.RULES
    + score_rules.RULES
)
"""Every rule, in the order of guideline-rules.md."""

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

SOURCES: dict[str, str] = {
    # The five papers of ../literature/ (README there).  Bibliographic details are given as
    # far as the supplied texts state them; see DECISIONS.md.
    "rev-nct-2020": (
        "Review: neoadjuvant therapy for colorectal liver metastases (key words: colorectal "
        "cancer, liver metastases, neoadjuvant chemotherapy, resection, immune checkpoint "
        "blockade) — standard regimens, chemotherapy liver toxicity (oxaliplatin SOS, "
        "irinotecan steatohepatitis, BMI > 25), NCCN/ESMO guidance for initially resectable "
        "and unresectable disease, timing (restaging every 6–8 weeks, surgery ≥ 4 weeks after "
        "chemotherapy, 6–8 weeks after bevacizumab). 2020. Authors, title and journal are not "
        "named in the supplied text. Project literature file 000_ad2042e9ca90651a.txt."
    ),
    "guo-2021": (
        "Guo M, Jin N, Pawlik T, Cloyd JM. Neoadjuvant chemotherapy for colorectal liver "
        "metastases: a contemporary review of the literature. World J Gastrointest Oncol "
        "2021;13(9):1043. Project literature file 001_1427da31408a40af.txt."
    ),
    "rev-treat-2021": (
        "Review of colorectal liver metastasis treatment options: resection (laparoscopic vs "
        "open, synchronous vs staged), ALPPS vs two-stage hepatectomy, hepatic arterial "
        "infusion, liver transplantation (SECA criteria), radiofrequency ablation, "
        "chemotherapy and targeted drugs by KRAS/BRAF/TP53, immunotherapy. 2021. Authors, "
        "title and journal are not named in the supplied text. Project literature file "
        "002_4d2c838e25375506.txt."
    ),
    "wjg-2014": (
        "Review: surgical management of colorectal liver metastases (key words: colorectal "
        "cancer; metastasis; liver; prognosis) — indications for resection, resectability "
        "groups, OncoSurge, JSCCR criteria, M1a/M1b/M1c staging, prognostic factors, portal "
        "vein embolisation, two-stage hepatectomy, extrahepatic disease, simultaneous vs "
        "staged resection, adjuvant and preoperative chemotherapy, repeat resection, "
        "peritoneal metastases, ablation. World J Gastroenterol 2014 (© 2014 Baishideng "
        "Publishing Group Inc.). Authors, title and volume are not named in the supplied "
        "text. Project literature file 003_5197b5a688cbb4f5.txt."
    ),
    "cairo-2024": (
        "Mohamed AY, Salem SE, Othman HF, Mahmoud AM. Radiological response after neoadjuvant "
        "chemotherapy of multiple and bilobar colorectal liver metastases (prospective cohort, "
        "Cairo University, 2022–2024, 25 patients). Nanotechnology Perceptions 2024;20(S15). "
        "Project literature file 004_14f0dc3ec2813722.txt."
    ),
    "nccn-colon": (
        "NCCN Clinical Practice Guidelines in Oncology: Colon Cancer (as summarised in "
        "guo-2021 Table 2)."
    ),
    "fong-1999": (
        "Fong Y et al. Clinical score for predicting recurrence after hepatic resection for "
        "metastatic colorectal cancer. Ann Surg 1999;230:309–318."
    ),
    "margonis-2018": (
        "Margonis GA et al. Genetic And Morphological Evaluation (GAME) score for patients "
        "with colorectal liver metastases. Br J Surg 2018;105:1210–1220."
    ),
    "brudvik-2019": (
        "Brudvik KW et al. RAS mutation clinical risk score to predict survival after "
        "resection of colorectal liver metastases. Ann Surg 2019;269:120–126."
    ),
    "sasaki-2018": "Sasaki K et al. The tumor burden score. Ann Surg 2018;267:132–141.",
    "eisenhauer-2009": (
        "Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised "
        "RECIST guideline (version 1.1). Eur J Cancer 2009;45:228–247."
    ),
    "chun-2009": (
        "Chun YS et al. Association of computed tomography morphologic criteria with "
        "pathologic response and survival in patients treated with bevacizumab for colorectal "
        "liver metastases. JAMA 2009;302:2338–2344."
    ),
    "eortc-40983": "Nordlinger B et al. Lancet Oncol 2013;14:1208–1215.",
    "beacon-2019": (
        "Kopetz S et al. Encorafenib, binimetinib, and cetuximab in BRAF V600E–mutated "
        "colorectal cancer. N Engl J Med 2019;381:1632–1643."
    ),
    "collision-2025": (
        "van der Lei S et al. Thermal ablation versus surgical resection of small-size "
        "colorectal liver metastases (COLLISION). Lancet Oncol 2025."
    ),
    "breakwater-2025": (
        "Elez E, Yoshino T, Shen L, et al. (Kopetz S, senior author). Encorafenib, cetuximab, "
        "and mFOLFOX6 in BRAF V600E–mutated metastatic colorectal cancer (BREAKWATER). "
        "N Engl J Med 2025;392:2425–2437."
    ),
    "keynote-177": (
        "André T et al. Pembrolizumab in microsatellite-instability-high advanced colorectal "
        "cancer. N Engl J Med 2020;383:2207–2218."
    ),
    "checkmate-8hw": (
        "André T et al. Nivolumab plus ipilimumab in microsatellite-instability-high "
        "metastatic colorectal cancer (CheckMate 8HW). N Engl J Med 2024."
    ),
    "shindoh-2013": (
        "Shindoh J et al. Kinetic growth rate after portal vein embolization predicts "
        "posthepatectomy outcomes. J Am Coll Surg 2013;216:201–209."
    ),
    "transmet-2024": (
        "Adam R et al. Liver transplantation plus chemotherapy versus chemotherapy alone in "
        "patients with permanently unresectable colorectal liver metastases (TRANSMET). "
        "Lancet 2024."
    ),
}

FACT_SOURCES: dict[str, tuple[str, ...]] = {
    "tumor_burden_score": ("sasaki-2018",),
    "fong_crs": ("fong-1999",),
    "game_score": ("margonis-2018",),
    "modified_clinical_score": ("brudvik-2019",),
    "recist": ("eisenhauer-2009",),
    "morphologic_response": ("chun-2009",),
    "pve": ("shindoh-2013",),
    "flr": ("guo-2021", "wjg-2014"),
}
"""Sources of the derived facts that carry a published definition (for the UI and PDF)."""


def reference(key: str) -> str:
    """The full reference of a source key."""
    return SOURCES[key]


def rule_entry(rule: Rule, profile: Profile) -> dict[str, Any]:
    """One rule as the catalogue shows it, with the profile's current thresholds."""
    return {
        "id": rule.id,
        "group": rule.group,
        "severity": rule.severity.value,
        "title": rule.title,
        "description": rule.description,
        "profile_keys": [
            {
                "key": key,
                "value": profile.value(key),
                "unit": PROFILE_KEY_BY_NAME[key].unit,
                "meaning": PROFILE_KEY_BY_NAME[key].meaning,
            }
            for key in rule.profile_keys
        ],
        "sources": [{"key": key, "reference": SOURCES[key]} for key in rule.sources],
    }


def catalogue(profile: Profile) -> list[dict[str, Any]]:
    """Every rule (spec order) with thresholds from `profile` and full source references."""
    return [rule_entry(r, profile) for r in RULES]


def catalogue_document(profile: Profile) -> dict[str, Any]:
    """The catalogue as one JSON-ready document (`crlmboard rules --json`)."""
    return {
        "format": "crlmboard.rules/1",
        "engine_version": ENGINE_VERSION,
        "profile": {"name": profile.name, "sha256": profile.sha256},
        "rules": catalogue(profile),
        "sources": dict(SOURCES),
        "severities": [s.value for s in sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__)],
    }


def catalogue_to_json(profile: Profile) -> str:
    """`catalogue_document` as text: 2-space indent, sorted keys, newline at the end."""
    return (
        json.dumps(catalogue_document(profile), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
