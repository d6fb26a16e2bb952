"""How every screen writes a date (Qt only: the case list uses it before the domain loads)."""

from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import QDate, QLocale


def date_format(locale: QLocale | None = None) -> str:
    """The one date format of every screen: the locale's short format with a four-digit
    year (`M/d/yyyy`, `dd.MM.yyyy`, `yyyy-MM-dd`); ISO when no locale is set."""
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C:  # no locale set: ISO is the clearest
        return "yyyy-MM-dd"
    pattern = locale.dateFormat(QLocale.FormatType.ShortFormat)
    if "yyyy" not in pattern:
        pattern = re.sub(r"(?<!y)yy(?!y)", "yyyy", pattern)
    return pattern


def locale_date(value: dt.date | None) -> str:
    """A date as every screen shows it (`date_format`): never a two-digit year."""
    if value is None:
        return ""
    if QLocale().language() == QLocale.Language.C:
        return value.isoformat()
    return QLocale().toString(QDate(value.year, value.month, value.day), date_format())
