"""`evaluate(case, as_of, profile)`: the `crlmboard.evaluation/1` document of a case.

Pure and deterministic: the same case, date and profile give byte-identical JSON (no clock,
no locale, no time zone, no file).  Records dated after `as_of` are ignored, missing data
becomes null facts and `DATA.*` findings, and findings are sorted by severity then rule id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import field
from datetime import date
from functools import cached_property
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import canonical_json
from crlmboard.domain.engine.canonical import canonical_text
from crlmboard.domain.engine.catalogue import ENGINE_VERSION, RULES
from crlmboard.domain.engine.facts import Facts, derive, facts_to_dict, plain
from crlmboard.domain.engine.profile import Profile
from crlmboard.domain.engine.rules import SEVERITY_ORDER, Context, Severity
from crlmboard.frozen import frozen

FORMAT = "crlmboard.evaluation/1"

__all__ = [
    "ENGINE_VERSION",
    "FORMAT",
    "Evaluation",
    "Finding",
    "evaluate",
    "evaluation_to_dict",
    "evaluation_to_json",
    "input_sha256",
]


@frozen
class Finding:
    """One rule that fired, with the numbers it used and its sources."""

    rule: str
    severity: Severity
    title: str
    message: str
    values: dict[str, Any]
    sources: tuple[str, ...]


@frozen
class Evaluation:
    """The engine's output for one case, date and profile."""

    engine_version: str
    profile_name: str
    profile_sha256: str
    as_of: date
    mrn: str
    facts: Facts
    findings: tuple[Finding, ...]
    case: Case = field(repr=False, compare=False)
    """The case evaluated, as given (the engine never changes it)."""

    @cached_property
    def input_sha256(self) -> str:
        """SHA-256 of the evaluated case's canonical JSON, computed when first read: the
        document needs it, a summary of the findings (the case list, an import) does not.
        Cases are values in the app (edits make a new `Case`), so it is the hash of the
        case as it was evaluated."""
        return input_sha256(self.case)

    def rule_ids(self) -> list[str]:
        """Ids of the findings, in order."""
        return [f.rule for f in self.findings]


def input_sha256(case: Case, *, direct: bool = True) -> str:
    """SHA-256 of the canonical case JSON (sorted keys, compact, no reviews).

    The text is written by the direct writers of `canonical.py`, made once per process and
    record type; with `direct=False` the same text comes from `canonical_json` instead,
    which for a process that hashes a single case (`crlmboard evaluate`) costs less than
    making the writers (about 8 M instructions against 35 M for a heavy case; B10)."""
    text = canonical_text(case) if direct else canonical_json(case)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evaluate(case: Case, as_of: date, profile: Profile) -> Evaluation:
    """Derive the facts of `case` at `as_of` and run every rule of the catalogue."""
    facts, episode = derive(case, as_of, profile)
    context = Context(as_of=as_of, profile=profile, facts=facts, episode=episode)
    findings: list[Finding] = []
    for rule in RULES:
        hit = rule.check(context)
        if hit is not None:
            findings.append(
                Finding(rule.id, rule.severity, rule.title, hit.message, hit.values, rule.sources)
            )
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.rule))
    return Evaluation(
        ENGINE_VERSION, profile.name, profile.sha256, as_of, case.mrn, facts, tuple(findings), case
    )


def evaluation_to_dict(evaluation: Evaluation, *, input_hash: bool = True) -> dict[str, Any]:
    """The `crlmboard.evaluation/1` document as plain JSON-ready data (without its
    `input_sha256` when not `input_hash`: a read model computes it when first read)."""
    document = {
        "format": FORMAT,
        "engine_version": evaluation.engine_version,
        "profile": {"name": evaluation.profile_name, "sha256": evaluation.profile_sha256},
        "as_of": evaluation.as_of.isoformat(),
        "mrn": evaluation.mrn,
        "input_sha256": evaluation.input_sha256 if input_hash else None,
        "facts": facts_to_dict(evaluation.facts),
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "title": f.title,
                "message": f.message,
                "values": plain(f.values),
                "sources": list(f.sources),
            }
            for f in evaluation.findings
        ],
    }
    if not input_hash:
        del document["input_sha256"]
    return document


def evaluation_to_json(evaluation: Evaluation, *, case_sha256: str | None = None) -> str:
    """The document as text: 2-space indent, sorted keys, UTF-8 characters kept, final
    newline.  `case_sha256`: the evaluated case's `input_sha256` when the caller made it."""
    document = evaluation_to_dict(evaluation, input_hash=case_sha256 is None)
    if case_sha256 is not None:
        document["input_sha256"] = case_sha256
    return (
        json.dumps(
            document,
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n"
    )
