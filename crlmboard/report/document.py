"""The page machinery every PDF shares: frame and margins, the footer with "page n of m",
document metadata, outline bookmarks and the build into bytes.

A document's story may carry `FooterMark` flowables: from the page a mark is drawn on, the
footer shows its identification and versions (a meeting pack changes them at each case).
Footers are drawn when the document is saved, when the page count is known.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from crlmboard.report.fonts import SANS, draw_string, register_fonts
from crlmboard.report.styles import (
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PAGE_SIZES,
    RULE,
)
from crlmboard.report.text import fp

_SAVING = threading.Lock()
"""Held while a document is written with reportlab's stream setting changed."""


@dataclass(frozen=True)
class FooterInfo:
    """What the footer of a page says besides its number."""

    identity: str = ""
    """Who and what the page is about, e.g. `DEMO-0007 · NAME, Given · case summary`."""
    app_version: str = ""
    engine_version: str | None = None
    profile: str | None = None
    input_hash: str | None = None
    audit_head: str | None = None
    checkpoint: Mapping[str, Any] | None = None
    """The audit chain's signed checkpoint when the PDF was made (AUDIT-DESIGN.md)."""

    def provenance(self) -> str:
        """`crlmboard 0.1.0 · engine 1.1.0 · profile default · input 0123456789ab · …`."""
        parts = [f"crlmboard {self.app_version}".strip()]
        if self.engine_version:
            parts.append(f"engine {self.engine_version}")
        if self.profile:
            parts.append(f"profile {self.profile}")
        if self.input_hash:
            parts.append(f"input {self.input_hash[:12]}")
        if self.audit_head:
            parts.append(f"audit head {self.audit_head[:12]}")
        if self.checkpoint:
            parts.append(
                f"audit checkpoint seq {self.checkpoint.get('seq')} "
                f"{str(self.checkpoint.get('mac', ''))[:12]}"
            )
        return " · ".join(parts)


class FooterMark(Flowable):  # type: ignore[misc]
    """Invisible: from the page it lands on, footers show `info`."""

    def __init__(self, info: FooterInfo):
        super().__init__()
        self.info = info
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        marks: dict[int, FooterInfo] | None = getattr(self.canv, "footer_marks", None)
        if marks is not None:
            marks[self.canv.getPageNumber()] = self.info


class Bookmark(Flowable):  # type: ignore[misc]
    """Invisible: an outline entry (bookmark) pointing at where it lands."""

    def __init__(self, key: str, title: str, level: int = 0, closed: bool = False):
        super().__init__()
        self.key, self.title, self.level, self.closed = key, title, level, closed
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv.bookmarkHorizontal(self.key, 0, 0)
        self.canv.addOutlineEntry(self.title, self.key, level=self.level, closed=self.closed)


class _PagedCanvas(Canvas):  # type: ignore[misc]
    """Holds every page back until `save`, then draws each footer with the page count."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.footer_marks: dict[int, FooterInfo] = {}
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        """`Canvas.line`, its coordinates written by the quick `fp` (the same text as
        reportlab's pure-Python `fp_str`: a summary's tables draw about 400 rules)."""
        self._code.append(f"n {fp(x1)} {fp(y1)} m {fp(x2)} {fp(y2)} l S")

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        # Page streams compressed only (reportlab's default also wraps them in ASCII85: a
        # quarter bigger, and slow in pure Python); the setting is read while saving.
        with _SAVING:
            previous = rl_config.useA85
            rl_config.useA85 = 0
            try:
                super().save()
            finally:
                rl_config.useA85 = previous

    def _info(self, number: int) -> FooterInfo:
        earlier = [page for page in self.footer_marks if page <= number]
        return self.footer_marks[max(earlier)] if earlier else FooterInfo()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _height = self._pagesize
        info = self._info(number)
        left, right = MARGIN_X, width - MARGIN_X
        top = MARGIN_BOTTOM - 5 * mm
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(left, top + 3.2 * mm, right, top + 3.2 * mm)
        self.setFillColor(MUTED)
        page_text = f"page {number} of {total}"
        page_width = draw_string(self, right, top, page_text, 8, bold=True, align="right")
        identity = info.identity
        if identity:
            draw_string(self, left, top, _fit(identity, right - left - page_width - 12, 7.5), 7.5)
        provenance = info.provenance()
        draw_string(self, left, top - 3.6 * mm, _fit(provenance, right - left, 6.5), 6.5)
        self.restoreState()


def _fit(text: str, width: float, size: float) -> str:
    """`text`, shortened with an ellipsis to fit `width` points."""
    from crlmboard.report.fonts import string_width

    if string_width(text, size) <= width:
        return text
    while text and string_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class Metadata:
    """The PDF's document information."""

    title: str
    subject: str
    app_version: str
    keywords: Sequence[str] = ()
    checkpoint: Mapping[str, Any] | None = None
    """Kept whole in the document's keywords (`crlmboard-checkpoint:{json}`): `check` and
    `MaintenanceService.checkpoint_authentic` can verify a printed PDF."""


CHECKPOINT_KEYWORD = "crlmboard-checkpoint:"


def checkpoint_keyword(checkpoint: Mapping[str, Any] | None) -> list[str]:
    if not checkpoint:
        return []
    return [
        CHECKPOINT_KEYWORD + json.dumps(dict(checkpoint), sort_keys=True, separators=(",", ":"))
    ]


def content_width(page_size: str) -> float:
    """Width of the text frame on a page of `page_size`."""
    return float(page_dimensions(page_size)[0] - 2 * MARGIN_X)


def content_height(page_size: str) -> float:
    return float(page_dimensions(page_size)[1] - MARGIN_TOP - MARGIN_BOTTOM)


def page_dimensions(page_size: str) -> tuple[float, float]:
    """(width, height) in points of `A4` or `letter`."""
    try:
        return PAGE_SIZES[page_size]
    except KeyError:
        raise ValueError(f"unknown page size {page_size!r}; use A4 or letter") from None


def build_pdf(
    story: list[Flowable],
    metadata: Metadata,
    *,
    page_size: str = "A4",
    footer: FooterInfo | None = None,
) -> bytes:
    """Lay out `story` on pages of `page_size` and return the PDF bytes."""
    register_fonts()
    size = page_dimensions(page_size)
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=metadata.title,
        author=f"crlmboard {metadata.app_version}".strip(),
        subject=metadata.subject,
        creator=f"crlmboard {metadata.app_version}".strip(),
        keywords=[*metadata.keywords, *checkpoint_keyword(metadata.checkpoint)],
        initialFontName=SANS,
        initialFontSize=9,
        lang="en",
    )
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        size[0] - 2 * MARGIN_X,
        size[1] - MARGIN_TOP - MARGIN_BOTTOM,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    document.addPageTemplates([PageTemplate(id="page", frames=[frame], pagesize=size)])
    if footer is not None:
        story = [FooterMark(footer), *story]
    document.build(story, canvasmaker=_PagedCanvas)
    return buffer.getvalue()
