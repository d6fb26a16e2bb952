"""The evaluation reaches the UI and the PDF only as its typed read model
(`domain.engine.readmodel.EvaluationView`): no module of `crlmboard/ui` or `crlmboard/report`
reads an evaluation document, its facts or its findings by string key.

The check walks the source's syntax trees: a subscript with a string (`facts["recist"]`), a
`.get("…")` on something named like a part of the document, a `.raw` attribute (the old back
door to the facts' dict) or a `fact("…")` helper call is a string-keyed read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "crlmboard"
CHECKED = ("ui", "report")

DOCUMENT_NAMES = frozenset(
    {
        "raw",
        "document",
        "doc",
        "evaluation",
        "frozen",
        "facts",
        "raw_facts",
        "findings",
        "finding",
        "profile",
        "recist",
        "recist_baseline",
        "entry",
        "baseline",
        "current",
        "flr",
        "pve",
        "chemotherapy",
        "chemo",
        "score",
        "points",
    }
)
"""Names under which code holds a part of an evaluation document."""


def _names(node: ast.AST) -> set[str]:
    """The names along an attribute chain: `self.evaluation.facts` → self, evaluation, facts."""
    names: set[str] = set()
    while isinstance(node, ast.Attribute | ast.Subscript):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.add(node.id)
    return names


def _held(node: ast.AST) -> bool:
    """`node` holds a part of an evaluation document, by its names."""
    return bool(_names(node) & DOCUMENT_NAMES)


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def string_keyed_reads(source: str, filename: str = "<source>") -> list[str]:
    """Each string-keyed read of an evaluation's parts in `source`, as `file:line: code`."""
    tree = ast.parse(source, filename)
    found: list[str] = []

    def hit(node: ast.AST) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {ast.unparse(node)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            if _is_text(node.slice) and _held(node.value):
                hit(node)
        elif isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and node.args
                and _is_text(node.args[0])
                and _held(func.value)
            ) or ("fact" in _names(func) and any(_is_text(a) for a in node.args)):
                hit(node)
        elif isinstance(node, ast.Attribute) and node.attr == "raw":
            hit(node)
    return found


@pytest.mark.parametrize(
    "code",
    [
        'evaluation.facts.raw["recist"]',
        "facts = evaluation.facts.raw",
        'self.facts.get("bmi")',
        'self.evaluation.get("as_of")',
        'finding["rule"]',
        'document["facts"]["recist_baseline"]',
        'score.get("points")',
        'self.fact("chemotherapy", "on_treatment")',
        'pve.get("weeks")',
        'finding.values["flr_percent"]',
    ],
)
def test_the_check_finds_a_string_keyed_read(code: str) -> None:
    assert string_keyed_reads(code)


@pytest.mark.parametrize(
    "code",
    [
        "evaluation.facts.recist_baseline.sum_mm",
        'INKS["grid"]',
        'SCORE_CRITERIA.get(key, "")',
        'self.values["flr"].setText(text)',  # a dict of the view's own labels
        "facts.recist[-1]",
    ],
)
def test_the_check_lets_typed_reads_and_other_dicts_pass(code: str) -> None:
    assert not string_keyed_reads(code)


def test_no_ui_or_report_module_reads_the_evaluation_by_string_key() -> None:
    files = sorted(f for part in CHECKED for f in (PACKAGE / part).rglob("*.py"))
    assert len(files) > 20  # the walk found the packages
    found = [
        line
        for path in files
        for line in string_keyed_reads(
            path.read_text("utf-8"), str(path.relative_to(PACKAGE.parent))
        )
    ]
    assert found == [], "read the evaluation through its read model:\n" + "\n".join(found)
