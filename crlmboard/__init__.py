"""crlmboard: a desktop case manager for tumor boards treating colorectal liver metastases."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def packaged(*parts: str) -> Traversable:
    """A file or folder shipped in `crlmboard/resources/`: from the package's folder (an
    installed wheel, a checkout, the frozen app), else through `importlib.resources` (a
    zipped package).  The folder first because `importlib.resources` costs more to import
    than the app's first paint or `crlmboard evaluate` can spare (performance.md B1, B10)."""
    folder = Path(__file__).resolve().parent / "resources"
    if folder.is_dir():
        return folder.joinpath(*parts)
    from importlib import resources

    return resources.files("crlmboard").joinpath("resources", *parts)


@functools.cache
def _version() -> str:
    """The one version number, `project.version` in pyproject.toml: read from the installed
    package's metadata (the frozen app carries a copy of it, see packaging/crlmboard.spec),
    else, in a plain checkout, from pyproject.toml itself."""
    from importlib import metadata

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
