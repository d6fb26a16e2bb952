"""The clinical model and the guideline engine: pure Python, no I/O, no clock."""

import os
import sys
import types


def _no_pydantic_plugins() -> None:
    """No pydantic plugins: the clinical models validate exactly as written here, whatever
    else is installed beside the app.  pydantic looks for plugins when the first model
    class is built — importing `importlib.metadata` (and with it `email`, `socket`…) and
    reading the entry points of every installed distribution — which cost about a quarter
    of `crlmboard evaluate` above its baseline (performance.md B10).  Its documented switch
    (PYDANTIC_DISABLE_PLUGINS) skips the search; the loader module, whose only use in
    pydantic is `get_plugins()`, is given as one that finds none, so the import goes too.
    Someone who sets PYDANTIC_DISABLE_PLUGINS otherwise gets pydantic's own loader."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    name = "pydantic.plugin._loader"
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] != "__all__" or name in sys.modules:
        return
    loader = types.ModuleType(name, "pydantic plugins: none (crlmboard.domain)")
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[name] = loader


_no_pydantic_plugins()
