"""The guideline engine (guideline-rules.md): facts, RECIST, scores, rules, profile, catalogue.

`evaluate(case, as_of, profile)` is pure — no files, no clock, no Qt or SQL — and returns an
`Evaluation`; `evaluation_to_json` gives the `crlmboard.evaluation/1` document.  Thresholds
come from an institution `Profile` (`load_profile_text`); `RULES` and `catalogue(profile)` list
every rule with its metadata and full source references.
"""

from crlmboard.domain.engine.catalogue import (
    ENGINE_VERSION,
    RULES,
    RULES_BY_ID,
    SOURCES,
    catalogue,
    catalogue_document,
    catalogue_to_json,
)
from crlmboard.domain.engine.evaluation import (
    FORMAT,
    Evaluation,
    Finding,
    evaluate,
    evaluation_to_dict,
    evaluation_to_json,
    input_sha256,
)
from crlmboard.domain.engine.profile import (
    DEFAULT_PROFILE_RESOURCE,
    PROFILE_KEYS,
    Profile,
    load_profile_text,
)
from crlmboard.domain.engine.rules import Rule, Severity

__all__ = [
    "DEFAULT_PROFILE_RESOURCE",
    "ENGINE_VERSION",
    "FORMAT",
    "PROFILE_KEYS",
    "RULES",
    "RULES_BY_ID",
    "SOURCES",
    "Evaluation",
    "Finding",
    "Profile",
    "Rule",
    "Severity",
    "catalogue",
    "catalogue_document",
    "catalogue_to_json",
    "evaluate",
    "evaluation_to_dict",
    "evaluation_to_json",
    "input_sha256",
    "load_profile_text",
]
