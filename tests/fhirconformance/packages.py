"""The published FHIR packages the conformance tests check against, fetched at test set-up.

Each package is pinned by name, exact version and the registry's sha512 integrity; it is
fetched once with `npm pack` (the npm registry's own client) into a cache outside the
checkout and unpacked there.  The app never loads these: they exist for the tests only.

- `hl7.fhir.us.mcode` 4.0.0: the mCODE STU4 profiles, value sets and examples.  Its
  StructureDefinition snapshots carry the inherited US Core 6.1.0, Genomics Reporting 2.0.0
  and R4 rules, so neither of those packages is needed to check an mCODE profile.
- `hl7.fhir.uv.extensions.r4` 5.3.0-ballot-tc1: the core extension definitions
  (data-absent-reason, ...).  mCODE names 5.2.0, which the npm registry does not carry; the
  extensions our bundles use are unchanged between the two.
- `hl7.fhir.r4.examples` 4.0.1: the R4 specification's own resources, which include every
  base StructureDefinition, ValueSet and CodeSystem of R4 (the package `hl7.fhir.r4.core`
  with the same definitions is not on the npm registry).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGES: tuple[tuple[str, str, str], ...] = (
    (
        "hl7.fhir.us.mcode",
        "4.0.0",
        "sha512-HJogFi9rQetIUE8gqKFq2tt4I8ukdH3PUCQO5jBiKxYUgh+vrlXvkWkt/XuYOzpNPdfRmsj3LG4UJm5o1g2OlA==",
    ),
    (
        "hl7.fhir.uv.extensions.r4",
        "5.3.0-ballot-tc1",
        "sha512-mhPmWj0dZvIC7JQLkqxT42/UpoIyYwFtSiIZbhX/ArfX96hR5oTqNvAUvMD+dMH45m4mGMQ19WyCZFpP1OLEbQ==",
    ),
    (
        "hl7.fhir.r4.examples",
        "4.0.1",
        "sha512-DXBdIZOeQaSKIgCU7w6HOC7sw/6BzylmipLkBW4f//pT+Bc94x+8LImwTdvaNThPJoOzpBzvxAzNqjeu3X/zLw==",
    ),
)


class PackageUnavailable(RuntimeError):
    """A pinned package could not be fetched or did not match its integrity."""


def cache_dir() -> Path:
    """`$CRLMBOARD_FHIR_CACHE`, else ~/.cache/crlmboard-fhir (outside the checkout)."""
    configured = os.environ.get("CRLMBOARD_FHIR_CACHE")
    if configured:
        return Path(configured)
    return Path(os.path.expanduser("~")) / ".cache" / "crlmboard-fhir"


def _integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def fetch(name: str, version: str, integrity: str, cache: Path) -> Path:
    """The unpacked `package/` folder of one pinned package, fetched if not cached."""
    target = cache / f"{name}#{version}"
    if (target / "package" / "package.json").is_file():
        return target / "package"
    npm = shutil.which("npm")
    if npm is None:
        raise PackageUnavailable("npm is not installed (scripts/test.sh installs it)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        result = subprocess.run(
            [npm, "pack", f"{name}@{version}", "--pack-destination", work, "--silent"],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        tarballs = list(Path(work).glob("*.tgz"))
        if result.returncode != 0 or len(tarballs) != 1:
            raise PackageUnavailable(f"npm pack {name}@{version} failed: {result.stderr[-500:]}")
        if _integrity(tarballs[0]) != integrity:
            raise PackageUnavailable(f"{name}@{version} does not match its pinned integrity")
        unpacked = Path(work) / "unpacked"
        with tarfile.open(tarballs[0]) as archive:
            archive.extractall(unpacked, filter="data")
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)
    return target / "package"


def fetch_all(cache: Path | None = None) -> dict[str, Path]:
    """Every pinned package by name."""
    where = cache or cache_dir()
    return {name: fetch(name, version, integrity, where) for name, version, integrity in PACKAGES}


if __name__ == "__main__":  # scripts/test.sh fetches before the tests run
    for package, folder in fetch_all().items():
        print(f"{package}: {folder}")
