"""The bundled fonts, and text made safe and drawable in any script.

Every PDF uses only fonts shipped in `crlmboard/resources/fonts/` (TrueType outlines, embedded
as subsets): Noto Sans for Latin, Greek and Cyrillic, Noto Sans Arabic and Noto Sans Hebrew,
Droid Sans Fallback for Chinese, Japanese and Korean, and DejaVu Sans for symbols the others
lack (≥, →, −, √ …).  `markup(text)` turns a user string into Paragraph markup: escaped, in
visual order for right-to-left scripts (Arabic is shaped into its joined forms first), and
split into runs that each name the font that has their glyphs.  `draw_string` and
`string_width` do the same for text drawn directly on a canvas.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from threading import Lock
from typing import Any
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    makeToUnicodeCMap,
)
from reportlab.pdfgen.canvas import Canvas

from crlmboard.report.text import fp, show

FONT_DIR = Path(__file__).resolve().parent.parent / "resources" / "fonts"

SANS = "CrlmSans"
SANS_BOLD = "CrlmSans-Bold"
SANS_ITALIC = "CrlmSans-Italic"
SANS_BOLD_ITALIC = "CrlmSans-BoldItalic"
ARABIC = "CrlmArabic"
HEBREW = "CrlmHebrew"
CJK = "CrlmCJK"
SYMBOLS = "CrlmSymbols"


LATIN_BASE = (
    "·—–“”‘’…•×÷±°µ²³¹§©®ΔΣ⁹ⁿ"
    + "".join(map(chr, range(0xA1, 0x100)))
    + "ČčĆćĐđŠšŽžŁłŃńŚśŹźŻżĄąĘęŐőŰűŘřĚěŮůŤťĎďŇňĽľĹĺŞşĞğİıŢţȘșȚțĀāĒēĪīŌōŪū"
    + "".join(map(chr, range(0x100, 0x180)))
)
"""The characters every document's first subset of a Latin face holds, in this order (the
first 159 the face has, with ASCII: all 256 codes): the app's own punctuation and signs, then
Latin-1 and the commonest letters of Latin Extended-A."""

SYMBOL_BASE = "→⇄−√∞≤≥■▼●±≠≈←↑↓✓✗"
"""The signs the app draws in the symbols face (the body face lacks them)."""


@dataclass(frozen=True)
class FontFamily:
    """A registered family: its regular and bold face (italic falls back to these); `base`
    the characters every document's first subset of its faces holds (see `SubsetOnceFont`),
    `ascii` whether that subset also holds ASCII at its own codes (reportlab's default)."""

    name: str
    regular: str
    bold: str
    italic: str | None = None
    bold_italic: str | None = None
    base: str = ""
    ascii: bool = True


FAMILIES: tuple[FontFamily, ...] = (
    FontFamily(
        SANS,
        "NotoSans-Regular.ttf",
        "NotoSans-Bold.ttf",
        "NotoSans-Italic.ttf",
        "NotoSans-BoldItalic.ttf",
        base=LATIN_BASE,
    ),
    FontFamily(ARABIC, "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    FontFamily(HEBREW, "NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
    FontFamily(CJK, "DroidSansFallback.ttf", "DroidSansFallback.ttf"),
    FontFamily(SYMBOLS, "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", base=SYMBOL_BASE, ascii=False),
)

_ARABIC_RANGES = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)
_HEBREW_RANGES = ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))
_CJK_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x31FF),
    (0x3200, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2FFFF),
)


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


@cache
def register_fonts() -> None:
    """Register every bundled face and family with reportlab (once per process)."""
    for family in FAMILIES:
        faces = {"": family.regular, "-Bold": family.bold}
        if family.italic:
            faces["-Italic"] = family.italic
        if family.bold_italic:
            faces["-BoldItalic"] = family.bold_italic
        for suffix, file in faces.items():
            pdfmetrics.registerFont(
                SubsetOnceFont(
                    family.name + suffix, str(FONT_DIR / file), family.base, ascii=family.ascii
                )
            )
        pdfmetrics.registerFontFamily(
            family.name,
            normal=family.name,
            bold=family.name + "-Bold",
            italic=family.name + ("-Italic" if family.italic else ""),
            boldItalic=family.name + ("-BoldItalic" if family.bold_italic else "-Bold"),
        )


class SubsetOnceFont(TTFont):  # type: ignore[misc]
    """A TrueType face whose subsets are made, compressed and formatted once per process.

    reportlab gives each document its own subsets of a face, numbered in the order the
    document first uses each character, and makes, compresses and formats every subset
    again for every document (a third of a case summary's saving time).  Here a document's
    first subset always holds the same characters (`base`, and ASCII at its own codes), so
    it is the same subset in every document; later characters (a Greek or Cyrillic name)
    go to further subsets as before.  A subset's PDF objects are kept by the characters it
    holds, so any subset seen before — the first in every document — is not made again.
    """

    def __init__(self, name: str, filename: str, base: str = "", *, ascii: bool = True):
        super().__init__(name, filename, asciiReadable=1 if ascii else 0)
        charmap = self.face.charToGlyph
        first = [c for c in dict.fromkeys(base) if ord(c) in charmap and not 32 <= ord(c) < 127]
        self._base = "".join(first[: 159 if ascii else 255])
        self._fixed: frozenset[int] = frozenset()  # characters with the same code everywhere
        self._encoded: dict[str, list[tuple[int, bytes]]] = {}

    def _state(self, doc: Any) -> Any:
        state = self.state.get(doc)
        if state is None:
            state = self.state[doc] = TTFont.State(self._asciiReadable, self)
            if self._base:
                TTFont.splitString(self, self._base, doc)
            if not self._fixed:
                self._fixed = frozenset(state.assignments)
        return state

    def splitString(self, text: str, doc: Any, encoding: str = "utf-8") -> Any:
        """reportlab's encoding of `text` in this document's subsets; a text of characters
        that have the same code in every document is encoded once per process."""
        self._state(doc)
        done = self._encoded.get(text)
        if done is not None:
            return done
        result = super().splitString(text, doc, encoding)
        if (
            isinstance(text, str)
            and len(self._encoded) < _ENCODED_KEPT
            and self._fixed.issuperset(map(ord, text))
        ):
            self._encoded[text] = result
        return result

    def getSubsetInternalName(self, subset: int, doc: Any) -> str:
        self._state(doc)
        name: str = super().getSubsetInternalName(subset, doc)
        return name

    def addObjects(self, pdf: Any) -> None:
        """reportlab's `TTFont.addObjects`, with each subset's objects made once."""
        state = self._state(pdf)
        state.frozen = 1
        fonts = pdf.idToObject["BasicFonts"].dict
        for number, subset in enumerate(state.subsets):
            internal = self.getSubsetInternalName(number, pdf)[1:]
            made = self._subset(number, tuple(subset), bool(pdf.compression))
            font = pdfdoc.PDFTrueTypeFont()
            font.__Comment__ = f"Font {self.fontName} subset {number}"
            font.Name = internal
            font.BaseFont = made.base_name
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = made.widths
            font.ToUnicode = pdf.Reference(
                made.stream(made.to_unicode), "toUnicodeCMap:" + made.base_name
            )
            font_file = made.stream(made.font_file, Length1=made.font_file_length)
            descriptor = pdfdoc.PDFDictionary(
                {
                    **made.descriptor,
                    "FontFile2": pdf.Reference(
                        font_file, f"fontFile:{self.face.filename}({made.base_name})"
                    ),
                }
            )
            font.FontDescriptor = pdf.Reference(descriptor, "fontDescriptor:" + made.base_name)
            pdf.Reference(font, internal)
            fonts[internal] = font
        del self.state[pdf]

    def _subset(self, number: int, subset: tuple[int, ...], compress: bool) -> _Subset:
        key = (self.face.filename, self.face.name, number, subset, compress)
        with _SUBSETS_LOCK:
            made = _SUBSETS.get(key)
            if made is not None:
                _SUBSETS.move_to_end(key)
                return made
        made = _Subset.make(self, number, subset, compress)
        with _SUBSETS_LOCK:
            _SUBSETS[key] = made
            while len(_SUBSETS) > _SUBSETS_KEPT:
                _SUBSETS.popitem(last=False)
        return made


@dataclass(frozen=True)
class _Subset:
    """A subset's PDF objects as reportlab writes them (streams already compressed)."""

    base_name: str
    widths: bytes
    to_unicode: bytes
    font_file: bytes
    font_file_length: int
    descriptor: dict[str, Any]
    compressed: bool

    @classmethod
    def make(cls, font: TTFont, number: int, subset: tuple[int, ...], compress: bool) -> _Subset:
        face = font.face
        base_name = (b"".join((SUBSETN(number), b"+", face.name, face.subfontNameX))).decode(
            "pdfdoc"
        )
        widths = pdfdoc.PDFArray(list(map(face.getCharWidth, subset))).format(None)
        to_unicode = makeToUnicodeCMap(base_name, list(subset)).encode("latin-1")
        font_file = face.makeSubset(list(subset))
        length = len(font_file)
        if compress:
            to_unicode = pdfdoc.PDFZCompress.encode(to_unicode)
            font_file = pdfdoc.PDFZCompress.encode(font_file)
        flags = (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC
        descriptor = {
            "Type": "/FontDescriptor",
            "Ascent": face.ascent,
            "CapHeight": face.capHeight,
            "Descent": face.descent,
            "Flags": flags,
            "FontBBox": pdfdoc.PDFArray(face.bbox),
            "FontName": pdfdoc.PDFName(base_name),
            "ItalicAngle": face.italicAngle,
            "StemV": face.stemV,
            "MissingWidth": face.defaultWidth,
        }
        return cls(base_name, widths, to_unicode, font_file, length, descriptor, compress)

    def stream(self, content: bytes, **entries: Any) -> pdfdoc.PDFStream:
        """A stream of `content` as it is written (compressed when the document is)."""
        dictionary = pdfdoc.PDFDictionary(dict(entries))
        if not self.compressed:
            return pdfdoc.PDFStream(dictionary, content)
        dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName(pdfdoc.PDFZCompress.pdfname)])
        return pdfdoc.PDFStream(dictionary, content, filters=[])


_SUBSETS: OrderedDict[tuple[Any, ...], _Subset] = OrderedDict()
_SUBSETS_LOCK = Lock()
_SUBSETS_KEPT = 64
_ENCODED_KEPT = 20_000
"""Texts kept encoded per face (labels, dates and numbers: a few thousand in practice)."""
"""Subsets kept (the first subset of each face, and a few more of recent documents)."""


@cache
def _glyphs(font_name: str) -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(font_name)
    return frozenset(font.face.charToGlyph)


@cache  # a pure function of the character: every character of every string asks it
def family_for(char: str) -> str:
    """The family whose font draws `char` (by script first, then by coverage)."""
    code = ord(char)
    if _in(code, _ARABIC_RANGES):
        return ARABIC
    if _in(code, _HEBREW_RANGES):
        return HEBREW
    if _in(code, _CJK_RANGES):
        return CJK
    for family in (SANS, SYMBOLS, CJK):
        if code in _glyphs(family):
            return family
    return SANS


def _is_neutral(char: str) -> bool:
    """Spaces and punctuation join the run around them when that font has them."""
    return unicodedata.category(char)[0] in "ZP" or char in "+-/=()"


def has_rtl(text: str) -> bool:
    return any(_in(ord(c), _ARABIC_RANGES) or _in(ord(c), _HEBREW_RANGES) for c in text)


def visual(text: str) -> str:
    """`text` in the order it is drawn: Arabic shaped into joined forms and right-to-left
    runs reversed (Unicode bidi algorithm); unchanged when it has no right-to-left letter.

    The text layer then holds the presentation forms, which PDF readers and `pdftotext` map
    back to the letters (NFKC) and reorder for copying and search.
    """
    if not has_rtl(text):
        return text
    import arabic_reshaper
    from bidi import get_display

    shaped: str = arabic_reshaper.reshape(text)
    return str(get_display(shaped))


def runs(text: str) -> list[tuple[str, str]]:
    """(family, text) runs of `text` in drawing order (`visual` applied)."""
    return list(_runs(text))


@lru_cache(maxsize=4096)  # the same labels, names and footers come back on every page
def _runs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(_plain_runs(visual(drawable(text))))


def drawable(text: str) -> str:
    """`text` with each character that no shipped font draws (an emoji, say) written as
    its code point, `[U+1F469]`: a name must never lose a character silently on paper.
    Invisible format characters (joiners, variation selectors) stay as they are."""
    if all(_drawn(c) for c in text):
        return text
    return "".join(c if _drawn(c) else f"[U+{ord(c):04X}]" for c in text)


@cache
def _drawn(char: str) -> bool:
    invisible = unicodedata.category(char) in ("Cc", "Cf", "Mn")
    return invisible or ord(char) in _glyphs(family_for(char))


def _plain_runs(text: str) -> list[tuple[str, str]]:
    """Runs by font; a space or punctuation mark between two characters of the same
    non-body font stays in that font (no font switch inside a name)."""
    families = [family_for(c) for c in text]
    for index, char in enumerate(text):
        if not _is_neutral(char):
            continue
        before = next(
            (families[i] for i in range(index - 1, -1, -1) if not _is_neutral(text[i])), None
        )
        after = next(
            (families[i] for i in range(index + 1, len(text)) if not _is_neutral(text[i])), None
        )
        if before is not None and before == after and ord(char) in _glyphs(before):
            families[index] = before
    result: list[tuple[str, str]] = []
    for char, family in zip(text, families, strict=True):
        if result and result[-1][0] == family:
            result[-1] = (family, result[-1][1] + char)
        else:
            result.append((family, char))
    return result


def markup(text: str | None, *, bold: bool = False, newlines: bool = True) -> str:
    """Paragraph markup for a user string: escaped (`<`, `>`, `&`), each script in its font.

    Text in the body font needs no tag; other runs are wrapped in `<font face=…>`, with `<b>`
    inside when `bold` (a face tag does not inherit the bold of a paragraph style).
    Line breaks become `<br/>` when `newlines`.
    """
    if not text:
        return ""
    lines = text.splitlines() if newlines else [" ".join(text.splitlines())]
    out: list[str] = []
    for line in lines:
        parts: list[str] = []
        for family, chunk in runs(line):
            safe = escape(chunk)
            if family == SANS:
                parts.append(safe)
            elif bold:
                parts.append(f'<font face="{family}"><b>{safe}</b></font>')
            else:
                parts.append(f'<font face="{family}">{safe}</font>')
        out.append("".join(parts))
    return "<br/>".join(out)


_TAG = re.compile(r"(<[^>]*>)")


def fallback(markup_text: str, *, bold: bool = False) -> str:
    """App-written markup with every character the body font lacks put in a font that has
    it (≥, →, − …); tags and entities are left alone."""
    return _fallback(markup_text, bold)


@lru_cache(maxsize=8192)  # every table cell comes through here: dates, numbers, labels
def _fallback(markup_text: str, bold: bool) -> str:
    parts = _TAG.split(markup_text)
    body = _glyphs(SANS)
    for index in range(0, len(parts), 2):  # even items are text between tags
        text = parts[index]
        if not text or body.issuperset(map(ord, text)):
            continue
        pieces: list[str] = []
        for family, chunk in _plain_runs(text):
            if family == SANS:
                pieces.append(chunk)
            elif bold:
                pieces.append(f'<font face="{family}"><b>{chunk}</b></font>')
            else:
                pieces.append(f'<font face="{family}">{chunk}</font>')
        parts[index] = "".join(pieces)
    return "".join(parts)


def face(family: str, bold: bool = False) -> str:
    """The registered font name of a family's regular or bold face."""
    return family + "-Bold" if bold else family


def string_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in points of `text` drawn with `draw_string`."""
    register_fonts()
    return float(sum(_width(chunk, face(family, bold), size) for family, chunk in runs(text)))


@lru_cache(maxsize=4096)
def _width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def draw_string(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    align: str = "left",
) -> float:
    """Draw `text` on a canvas at baseline `y`, each script in its font, in the current fill
    colour; returns its width.

    `align` is `left` (x is the start), `right` (x is the end) or `centre`.
    """
    register_fonts()
    width = string_width(text, size, bold=bold)
    if align == "right":
        x -= width
    elif align == "centre":
        x -= width / 2
    for family, chunk in runs(text):
        name = face(family, bold)
        shown = show(canvas, chunk, name, size)
        if shown is None:  # not an embedded TrueType face: reportlab's own text object
            canvas.setFont(name, size)
            canvas.drawString(x, y, chunk)
        else:
            canvas.addLiteral(f"BT 1 0 0 1 {fp(x)} {fp(y)} Tm {shown} ET")
        x += _width(chunk, name, size)
    return width
