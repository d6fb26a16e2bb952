"""Case builders for the guideline-engine tests.

`cb.case(...)` builds a valid `Case` from a *quiet* base record (complete molecular profile,
resected node-negative sigmoid primary, one liver lesion, normal CEA, no plan) that fires no
rule at the base date; keyword arguments replace or merge blocks, so each test states only
what its rule needs.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import case_from_dict
from crlmboard.domain.engine import Evaluation, Profile, evaluate
from tests.domain.engine.spec_tables import COMPLETE_MOLECULAR, merged, quiet_scan

TODAY = date(2030, 1, 1)
AS_OF = date(2025, 6, 1)

BASE: dict[str, Any] = {
    "format": "crlmboard.case/1",
    "patient": {
        "mrn": "T-0001",
        "birth_date": "1960-01-15",
        "sex": "female",
        "ecog": 0,
        "height_cm": 170,
        "weight_kg": 65,
        "liver_background": "normal",
    },
    "primary": {
        "site": "sigmoid",
        "diagnosis_date": "2023-01-10",
        "t": "t3",
        "n": "n0",
        "resection_date": "2023-02-01",
    },
    "liver_metastases_diagnosis_date": "2025-04-01",
    "molecular": COMPLETE_MOLECULAR,
    "labs": [{"date": "2025-04-01", "cea_ng_ml": 3.0}],
    "treatments": [],
    "imaging": [quiet_scan("2025-04-01")],
}


class CaseBuilder:
    """Small helpers to write cases as data."""

    as_of = AS_OF
    today = TODAY

    def data(self, **blocks: Any) -> dict[str, Any]:
        """The base document with blocks replaced (lists) or merged (objects); None drops."""
        return merged(BASE, **blocks)

    def case(self, **blocks: Any) -> Case:
        return case_from_dict(self.data(**blocks), today=TODAY)

    def evaluate(
        self, case: Case, as_of: date = AS_OF, profile: Profile | None = None
    ) -> Evaluation:
        return evaluate(case, as_of, profile or Profile())

    def rules(
        self,
        case: Case,
        as_of: date = AS_OF,
        profile: Profile | None = None,
    ) -> set[str]:
        return set(self.evaluate(case, as_of, profile).rule_ids())

    def finding(
        self, case: Case, rule_id: str, as_of: date = AS_OF, profile: Profile | None = None
    ) -> Any:
        for found in self.evaluate(case, as_of, profile).findings:
            if found.rule == rule_id:
                return found
        raise AssertionError(f"{rule_id} did not fire")

    @staticmethod
    def lesion(
        lesion_id: str,
        mm: float | None,
        segment: int | None = 6,
        **extra: Any,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": lesion_id,
            "segment": segment,
            "longest_diameter_mm": mm,
            **extra,
        }
        out.setdefault("status", "disappeared" if mm == 0 else "present")
        return {k: v for k, v in out.items() if v is not None}

    @staticmethod
    def scan(
        when: str | date, lesions: list[dict[str, Any]], modality: str = "mri", **extra: Any
    ) -> dict[str, Any]:
        return {"date": str(when), "modality": modality, "lesions": lesions, **extra}

    @staticmethod
    def cycles(
        first: str | date,
        count: int,
        regimen: str = "folfox",
        every: int = 14,
        setting: str = "neoadjuvant",
        biologic: str | None = None,
        **extra: Any,
    ) -> list[dict[str, Any]]:
        start = date.fromisoformat(str(first))
        out = []
        for i in range(count):
            cycle: dict[str, Any] = {
                "kind": "chemotherapy",
                "date": (start + timedelta(days=every * i)).isoformat(),
                "regimen": regimen,
                "cycle": i + 1,
                "setting": setting,
                "cycle_length_days": every if every in (14, 21) else None,
                **extra,
            }
            if biologic is not None:
                cycle["biologic"] = biologic
            out.append({k: v for k, v in cycle.items() if v is not None})
        return out

    @staticmethod
    def procedure(when: str | date, kind: str, **extra: Any) -> dict[str, Any]:
        return {"kind": "procedure", "date": str(when), "procedure": kind, **extra}

    @staticmethod
    def days(when: date, n: int) -> str:
        return (when + timedelta(days=n)).isoformat()


@pytest.fixture
def cb() -> CaseBuilder:
    return CaseBuilder()
