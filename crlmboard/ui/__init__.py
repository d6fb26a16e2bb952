"""Everything PySide6: windows, item models, dialogs.  Data only through services.

Nothing is imported here: the app's first paint loads only Qt and the light parts of the UI
(ui/first_paint.py); the domain and the data layer load on the database worker after it."""
