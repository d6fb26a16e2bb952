"""PySide6's `Qt` namespace, built the first time one of its names is used.

PySide6 builds a binding's class with all its enums as Python `enum` classes the first time
the class is named; the `Qt` namespace has 93 of them (`Qt.Key` ~470 members), about a tenth
of the app's start (performance.md B1).  The case list's first paint needs none of them, so
the modules it imports name `Qt` through this object, which asks PySide6 for the real
namespace on the first attribute read (type checkers see the real one):

    if TYPE_CHECKING:
        from PySide6.QtCore import Qt
    else:
        from crlmboard.ui.lazyqt import Qt

`tests/ui/test_first_paint.py` checks that nothing builds the namespace before the paint.
"""

from __future__ import annotations

from typing import Any


class _Namespace:
    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        from PySide6.QtCore import Qt

        return getattr(Qt, name)

    def __repr__(self) -> str:
        return "<PySide6.QtCore.Qt, built on first use>"


Qt: Any = _Namespace()
