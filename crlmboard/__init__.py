"""crlmboard: a desktop case manager for tumor boards treating colorectal liver metastases."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path


def _version() -> str:
    """The one version number, `project.version` in pyproject.toml: read from the installed
    package's metadata (the frozen app carries a copy of it, see packaging/crlmboard.spec),
    else, in a plain checkout, from pyproject.toml itself."""
    try:
        return metadata.version("crlmboard")
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    try:
        with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"


__version__ = _version()
