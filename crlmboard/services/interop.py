"""`board.interop`: mCODE FHIR bundles out and in, and the referral CSV in.

Export evaluates the case with the guideline engine as of today and the profile in force (the
RECIST response per timepoint) and writes the bundle atomically.  Imports go through the
`Importer` (services/importing.py): a bundle is mapped to a case document, validated like a
case file and stored; what the bundle holds that a case cannot is returned as notes.  The
referral CSV is previewed (nothing written) or imported all or nothing in one transaction.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from crlmboard.domain.case import Case
from crlmboard.domain.caseformat import parse_json
from crlmboard.domain.validation import InvalidInput, Problem
from crlmboard.services.cases import CaseService
from crlmboard.services.changes import ChangeSet
from crlmboard.services.database import Database
from crlmboard.services.evaluation import EvaluationService
from crlmboard.services.files import write_file_atomically
from crlmboard.services.importing import (
    MAX_FILE_BYTES,
    QUESTION_NOTE,
    FileImport,
    Importer,
    ReferralPlan,
    ReferralPreview,
)
from crlmboard.store.repositories import SettingRepository

__all__ = [
    "MAX_FILE_BYTES",
    "QUESTION_NOTE",
    "FileImport",
    "InteropService",
    "ReferralPlan",
    "ReferralPreview",
]

MRN_SYSTEM_SETTING = "fhir.mrn_system"
MRN_SYSTEM_SHAPE = re.compile(r"^(https?://[^\s]+|urn:oid:[0-2](\.(0|[1-9]\d*))+)$")


class InteropService:
    """Exchange formats of the open database."""

    def __init__(
        self,
        database: Database,
        evaluation: EvaluationService,
        cases: CaseService,
        importer: Importer,
    ):
        self.database = database
        self.evaluation = evaluation
        self.cases = cases
        self.importer = importer

    # -- mCODE export -------------------------------------------------------------------

    def export_fhir(self, mrn: str) -> dict[str, Any]:
        """The mCODE bundle of a case, as of today with the profile in force."""
        from crlmboard.interop.mcode import case_to_bundle  # read on first use (bench B1)

        case = self.cases.get(mrn)
        return case_to_bundle(
            case,
            as_of=self.database.today(),
            profile=self.evaluation.profile,
            mrn_system=self.mrn_system(),
        )

    def mrn_system(self) -> str:
        """The site's MRN identifier system (set once per hospital by IT)."""
        from crlmboard.interop.codes import MRN_SYSTEM

        with self.database.read() as session:
            stored = SettingRepository(session).get(MRN_SYSTEM_SETTING)
        return stored or MRN_SYSTEM

    def set_mrn_system(self, system: str) -> ChangeSet:
        """Set the site's MRN identifier system: an absolute URL or a `urn:oid:` OID."""
        value = system.strip()
        if not MRN_SYSTEM_SHAPE.match(value):
            raise InvalidInput(
                [
                    Problem(
                        "mrn_system",
                        "must be an http(s) URL or urn:oid: followed by an OID, e.g. "
                        "urn:oid:1.2.3.4.5 (your hospital's MRN namespace)",
                    )
                ]
            )
        self.database.check_writable()
        with self.database.write() as session:
            SettingRepository(session).put(MRN_SYSTEM_SETTING, value)
        return ChangeSet(settings=frozenset({"mrn_system"}))

    def fhir_text(self, mrn: str) -> str:
        return json.dumps(self.export_fhir(mrn), indent=2, ensure_ascii=False) + "\n"

    def write_fhir(self, mrn: str, destination: str | os.PathLike[str]) -> Path:
        """Write the bundle atomically (temporary file, fsync, rename)."""
        return write_file_atomically(Path(destination), self.fhir_text(mrn).encode("utf-8"))

    # -- imports ------------------------------------------------------------------------

    def preview_bundle(self, path: str | os.PathLike[str]) -> tuple[Case, list[str]]:
        """The case a bundle file carries and every item not mapped or skipped; nothing is
        written."""
        file = Path(path)
        if file.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput([Problem("", "the file is larger than 20 MB")])
        try:
            data = parse_json(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput([Problem("", "the file is not UTF-8 text")]) from None
        except json.JSONDecodeError as error:
            raise InvalidInput([Problem("", f"not a JSON file: {error}")]) from None
        return self.bundle_case(data)

    def bundle_case(self, bundle: Any) -> tuple[Case, list[str]]:
        """The case a bundle carries (validated like a case file) and the unmapped notes."""
        return self.importer.bundle_case(bundle)

    def import_bundle(self, bundle: Any, *, replace: bool = False) -> FileImport:
        return self.importer.bundle(bundle, replace)

    def import_file(self, path: str | os.PathLike[str], *, replace: bool = False) -> FileImport:
        """Import a case file, an mCODE bundle (JSON with resourceType Bundle) or a referral
        CSV (by its suffix).  Raises InvalidInput with every problem."""
        return self.importer.file(path, replace)

    def preview_referrals(self, path: str | os.PathLike[str]) -> ReferralPreview:
        """What importing the file would create and fill in; nothing is written."""
        return self.importer.preview_referrals(path)

    def import_referrals(self, path: str | os.PathLike[str]) -> FileImport:
        """Create or fill in a case per row, all rows in one transaction or none."""
        return self.importer.referrals(path)
