"""Everything PySide6: windows, item models, dialogs.  Data only through services."""
