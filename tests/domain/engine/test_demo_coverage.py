"""The packaged demo data fires every rule of the catalogue at least once.

Each demo case is evaluated as of 2026-11-24 (the date the demo README's expected rules are
written for) with the packaged default profile; the union of the fired rule ids must be the
whole catalogue, so the demo shows every finding the engine can produce.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from crlmboard.domain.caseformat import loads_case
from crlmboard.domain.engine import RULES, evaluate
from crlmboard.services.evaluation import default_profile

DEMO = Path(__file__).parents[3] / "crlmboard" / "resources" / "demo"
AS_OF = date(2026, 11, 24)


def test_demo_cases_fire_every_rule() -> None:
    files = sorted(DEMO.glob("*.json"))
    assert files, f"no demo cases in {DEMO}"
    profile = default_profile()
    fired: set[str] = set()
    for path in files:
        case = loads_case(path.read_text("utf-8"), AS_OF)
        evaluation = evaluate(case, AS_OF, profile)
        fired |= set(evaluation.rule_ids())
        # every message is filled in: no template placeholder left over
        unfilled = [f.rule for f in evaluation.findings if "{" in f.message or "}" in f.message]
        assert not unfilled, f"{path.name}: unfilled message in {unfilled}"
    catalogue = {rule.id for rule in RULES}
    missing = sorted(catalogue - fired)
    assert not missing, f"no demo case fires: {', '.join(missing)}"
    assert fired == catalogue, f"fired rules not in the catalogue: {sorted(fired - catalogue)}"
