"""crlmboard: a desktop case manager for tumor boards treating colorectal liver metastases."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _version() -> str:
    """The one version number, `project.version` in pyproject.toml: read from the installed
    package's metadata (the frozen app carries a copy of it, see packaging/crlmboard.spec),
    else, in a plain checkout, from pyproject.toml itself."""
    from importlib import metadata
    from pathlib import Path

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


def __getattr__(name: str) -> Any:
    # `__version__` is read on first use: importlib.metadata costs more than the rest of a
    # command such as `crlmboard evaluate` that never shows it.
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
