"""Everything PySide6: windows, item models, dialogs.  Data only through services."""

# The domain (and so pydantic) is loaded before any Qt module: PySide6's import hook
# inspects modules as they load and breaks pydantic's lazily imported names otherwise.
import crlmboard.domain.case
import crlmboard.domain.engine  # noqa: F401
