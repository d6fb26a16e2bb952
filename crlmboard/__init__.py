"""crlmboard: a desktop case manager for tumor boards treating colorectal liver metastases."""

from __future__ import annotations

from importlib import metadata


def _version() -> str:
    try:
        return metadata.version("crlmboard")
    except metadata.PackageNotFoundError:  # frozen app or plain checkout
        return "0.1.0"


__version__ = _version()
