"""`Text`: the app's paragraphs and table cells, laid out and drawn as a reportlab `Paragraph`
would, without its general machinery.

A summary has several hundred of them — mostly a number, a date or a label in a table cell.
A `Paragraph` parses its markup with an HTML parser, measures every word each time a table
asks its size, and draws each one inside a saved and translated graphics state through a text
object.  `Text` understands the small markup the app writes (`<b>`, `<br/>`, `<font>` with
`color`, `face` and `size`, the entities `&lt; &gt; &amp;`), measures each word once, breaks
lines by the Paragraph's rule (greedy, a space may shrink by `spaceShrinkage`) and writes the
PDF text operators for all its lines at once, at the positions the Paragraph uses (first
baseline one font size below the top, then one leading per line).  Anything else — other tags
or entities, a word wider than the column, indents, a split across pages — is handed to a real
`Paragraph` of the same markup and style, so a page reads the same either way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

from reportlab.lib.colors import Color, toColor
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.fonts import ps2tt, tt2ps
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph

Piece = tuple[str, str, Color, float]
"""(text, font name, colour, size) of a part of a word or line in one look."""
Word = tuple[tuple[Piece, ...], float, float, "Piece | None"]
"""(pieces, width, width of the space before it, that space in its look) — a space is
measured and drawn in the font of the markup piece that holds it, as a Paragraph does."""
Line = tuple[tuple[Piece, ...], float, int]
"""(pieces with the spaces between words, width, number of words)."""

_TAG = re.compile(r"<([^<>]*)>")
_ATTRIBUTE = re.compile(r"""\s*(\w+)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^\s'"=<>`]+))""")
_SIZE = re.compile(r"\d+(?:\.\d+)?")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_ENTITY = re.compile(r"&(?:lt|gt|amp);")
_FUZZ = 1e-8  # reportlab's tolerance when it compares widths
_TIE = 1e-6  # closer than this to a line's limit: let the Paragraph decide
_BREAK = "\n"
_SPECIAL_STYLE = (
    "leftIndent",
    "rightIndent",
    "firstLineIndent",
    "backColor",
    "borderWidth",
    "borderColor",
    "wordWrap",
    "endDots",
    "hyphenationLang",
    "embeddedHyphenation",
    "uriWasteReduce",
    "shaping",
    "bulletText",
    "justifyLastLine",
)
"""Style settings a Paragraph draws with more than plain lines: those paragraphs stay
Paragraphs."""


class _NotSimple(Exception):
    """The markup needs a real Paragraph."""


@lru_cache(maxsize=8192)  # cell texts repeat: dashes, units, dates, labels, numbers
def segments(
    markup: str, font_name: str, colour: Color, size: float
) -> tuple[tuple[Word, ...], ...] | None:
    """The words of each line that `<br/>` starts, as a Paragraph of a style in `font_name`,
    `colour` and `size` reads `markup`; None when that needs a real Paragraph."""
    try:
        return tuple(_words(line) for line in _lines(_pieces(markup, font_name, colour, size)))
    except (_NotSimple, ValueError):  # ValueError: a face or colour reportlab does not know
        return None


def _pieces(markup: str, font_name: str, colour: Color, size: float) -> list[Piece]:
    """The text between tags in its font, colour and size; `_BREAK` for `<br/>`."""
    family, bold, italic = ps2tt(font_name)
    stack: list[tuple[str, str, int, int, Color, float]] = []
    pieces: list[Piece] = []
    position = 0
    for match in _TAG.finditer(markup):
        _add_text(pieces, markup[position : match.start()], family, bold, italic, colour, size)
        position = match.end()
        tag = match.group(1).strip()
        if tag == "b":
            stack.append(("b", family, bold, italic, colour, size))
            bold = 1
        elif tag in ("br/", "br /"):
            pieces.append((_BREAK, "", colour, size))
        elif tag.startswith("font") and tag[4:5].isspace():
            stack.append(("font", family, bold, italic, colour, size))
            family, bold, italic, colour, size = _font_tag(
                tag[5:].rstrip(), family, bold, italic, colour, size
            )
        elif tag in ("/b", "/font"):
            if not stack or stack[-1][0] != tag[1:]:
                raise _NotSimple
            _, family, bold, italic, colour, size = stack.pop()
        else:
            raise _NotSimple  # <i>, <para>, <super>, <a> …
    if stack:
        raise _NotSimple
    _add_text(pieces, markup[position:], family, bold, italic, colour, size)
    return pieces


def _font_tag(
    attributes: str, family: str, bold: int, italic: int, colour: Color, size: float
) -> tuple[str, int, int, Color, float]:
    seen = 0
    while seen < len(attributes):
        attribute = _ATTRIBUTE.match(attributes, seen)
        if attribute is None:
            raise _NotSimple
        name = attribute.group(1).lower()
        value = next(v for v in attribute.group(2, 3, 4) if v is not None)
        if name == "color":
            colour = _colour(value)
        elif name == "face":
            family, bold, italic = ps2tt(value)
        elif name == "size" and _SIZE.fullmatch(value):
            size = float(value)
        else:
            raise _NotSimple  # relative sizes, name=, backColor= …
        seen = attribute.end()
    return family, bold, italic, colour, size


def _add_text(
    pieces: list[Piece], text: str, family: str, bold: int, italic: int, colour: Color, size: float
) -> None:
    if not text:
        return
    if "&" in text:
        if "&" in _ENTITY.sub("", text):
            raise _NotSimple  # another entity or a bare ampersand: the parser's business
        text = _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)
    if not text.replace(" ", "").isprintable() or "\xad" in text:
        raise _NotSimple  # tabs, line breaks, no-break or other spaces, soft hyphens
    pieces.append((text, tt2ps(family, bold, italic), colour, size))


def _lines(pieces: list[Piece]) -> list[list[Piece]]:
    """The pieces of each `<br/>`-separated line."""
    lines: list[list[Piece]] = [[]]
    for piece in pieces:
        if piece[0] == _BREAK:
            lines.append([])
        else:
            lines[-1].append(piece)
    if len(lines) > 1 and not all(any(p[0].strip() for p in line) for line in lines):
        raise _NotSimple  # an empty line between breaks
    return lines


def _words(pieces: list[Piece]) -> tuple[Word, ...]:
    """Words split at spaces (several spaces count as one, none at either end); a word's
    space is the one before it, in the look of the piece that holds it (so a Paragraph
    measures it)."""
    words: list[Word] = []
    current: list[Piece] = []
    space: Piece | None = None  # the look of the space before the word being read
    pending: Piece | None = None  # a space seen since the last word ended
    for text, font, colour, size in pieces:
        parts = text.split(" ")
        for index, part in enumerate(parts):
            if index:  # a space
                if current:
                    words.append(_word(current, space))
                    current = []
                if pending is None:
                    pending = (" ", font, colour, size)
            if part:
                if not current:
                    space, pending = (pending if words else None), None
                current.append((part, font, colour, size))
    if current:
        words.append(_word(current, space))
    return tuple(words)


def _word(pieces: list[Piece], space: Piece | None) -> Word:
    space_width = 0.0 if space is None else _width(" ", space[1], space[3])
    return (tuple(pieces), sum(_width(text, f, s) for text, f, _, s in pieces), space_width, space)


def break_lines(words: tuple[Word, ...], width: float, shrinkage: float) -> list[Line] | None:
    """The Paragraph's line breaking of `words` in `width` points: a word goes on the line
    while the line stays within `width` plus `shrinkage` of its spaces.  None when a word is
    wider than the line or a width is too close to call."""
    lines: list[Line] = []
    line: list[Word] = []
    used = 0.0
    spaces = 0.0  # the widths of the spaces on the line, the next word's included
    for word in words:
        _, word_width, space, _ = word
        if word_width > width - _TIE:
            return None  # the Paragraph splits long words (or might: too close to call)
        if line:
            wider = used + space + word_width
            limit = width + shrinkage * (spaces + space)
            if abs(wider - limit) < _TIE:
                return None
            if wider > limit:
                lines.append(_line(line, used))
                line, used, spaces = [word], word_width, 0.0
            else:
                line.append(word)
                used, spaces = wider, spaces + space
        else:
            line, used = [word], word_width
    if line:
        lines.append(_line(line, used))
    return lines


def _line(words: list[Word], width: float) -> Line:
    pieces: list[Piece] = []
    for index, (word_pieces, _, _, space) in enumerate(words):
        for piece in (space, *word_pieces) if index and space else word_pieces:
            if pieces and pieces[-1][1:] == piece[1:]:
                pieces[-1] = (pieces[-1][0] + piece[0], *piece[1:])
            else:
                pieces.append(piece)
    return tuple(pieces), width, len(words)


@lru_cache(maxsize=256)
def _colour(value: str) -> Color:
    colour: Color = toColor(value)
    return colour


@lru_cache(maxsize=16384)
def _width(text: str, font: str, size: float) -> float:
    return float(stringWidth(text, font, size))


@lru_cache(maxsize=8192)  # by the markup and the style's identity: cheap to look up
def _styled_segments(markup: str, style: ParagraphStyle) -> tuple[tuple[Word, ...], ...] | None:
    if not _plain(style):
        return None
    return segments(markup, style.fontName, style.textColor, style.fontSize)


@lru_cache(maxsize=16384)  # the same date, number or label at the same column width
def _broken(markup: str, style: ParagraphStyle, width: float) -> tuple[Line, ...] | None:
    """The lines of `markup` in `style` broken to `width`; None when a Paragraph must."""
    segments = _styled_segments(markup, style)
    if segments is None:
        return None
    lines: list[Line] = []
    for words in segments:
        broken = break_lines(words, width, style.spaceShrinkage or 0)
        if broken is None:
            return None
        lines += broken
    return tuple(lines)


@lru_cache(maxsize=64)  # the shared styles, by identity
def _plain(style: ParagraphStyle) -> bool:
    """Whether a Paragraph in `style` draws nothing but its lines of text."""
    return (
        style.alignment in (TA_LEFT, TA_RIGHT, TA_CENTER)
        and not any(getattr(style, name, None) for name in _SPECIAL_STYLE)
        and getattr(style, "autoLeading", None) in (None, "", "off")
    )


class Text(Flowable):  # type: ignore[misc]
    """Markup in a paragraph style, laid out and drawn as a `Paragraph` would be."""

    def __init__(self, markup: str, style: ParagraphStyle):
        super().__init__()
        self.text = markup
        self.style = style
        self._segments = _styled_segments(markup, style)
        self._paragraph: Paragraph | None = None
        self._lines: Sequence[Line] = ()
        self._wrapped_at: float | None = None
        self._wrapped = (0.0, 0.0)

    def _para(self) -> Paragraph:
        if self._paragraph is None:
            self._paragraph = Paragraph(self.text, self.style)
        return self._paragraph

    @property
    def delegated(self) -> bool:
        """Whether this text is laid out and drawn by a real Paragraph."""
        return self._paragraph is not None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if self._wrapped_at != available_width:  # the layout depends on the width only
            self._wrapped = self._layout(available_width, available_height)
            self._wrapped_at = available_width
        self.width, self.height = self._wrapped
        return self._wrapped

    def _layout(self, width: float, height: float) -> tuple[float, float]:
        if self._paragraph is None and self._segments is not None and width >= 1e-6:
            lines = _broken(self.text, self.style, width)
            if lines is not None:
                self._lines = lines
                return width, len(lines) * self.style.leading
        wrapped: tuple[float, float] = self._para().wrapOn(
            getattr(self, "canv", None), width, height
        )
        return wrapped

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        self._wrapped_at = None  # from here on the Paragraph lays it out
        parts: list[Flowable] = self._para().split(available_width, available_height)
        return parts

    def minWidth(self) -> float:
        paragraph = self._paragraph or Paragraph(self.text, self.style)
        return float(paragraph.minWidth())

    def getPlainText(self) -> str:
        if self._segments is not None:
            return "\n".join(
                " ".join("".join(p[0] for p in word[0]) for word in words)
                for words in self._segments
            )
        return str(self._para().getPlainText())

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        if self._paragraph is not None:
            self._paragraph.drawOn(canvas, x, y, _sW)
            return
        if not self._lines:
            return
        x = self._hAlignAdjust(x, _sW)
        first_size = max(piece[3] for piece in self._lines[0][0])
        code = _operators(
            canvas,
            self._lines,
            x,
            y + self.height - first_size,
            self.width,
            self.style.leading,
            self.style.alignment,
        )
        if code is None:  # a colour or font the operators do not write
            self._wrapped_at = None
            self._para().wrapOn(canvas, self.width, self.height)
            self._para().drawOn(canvas, x, y)
            return
        canvas.addLiteral(code)


def _operators(
    canvas: Canvas,
    lines: Sequence[Line],
    x: float,
    baseline: float,
    width: float,
    leading: float,
    alignment: int,
) -> str | None:
    """The PDF operators that draw `lines`, in a saved graphics state so that the canvas's
    idea of the current font and colour stays true — the text, fonts and colours a
    Paragraph's text object writes, without its machinery; None when a colour or font needs
    reportlab's own calls."""
    if getattr(canvas, "_enforceColorSpace", None) is not None:
        return None
    parts = ["q BT"]
    colour: Color | None = None
    for number, (pieces, used, count) in enumerate(lines):
        extra = width - used
        spacing = 0.0
        if extra < -_FUZZ and count > 1:  # spaces shrunk to fit, from the left edge
            start = 0.0
            spacing = extra / (count - 1)
        elif alignment == TA_RIGHT:
            start = extra
        elif alignment == TA_CENTER:
            start = extra / 2
        else:
            start = 0.0
        parts.append(f"1 0 0 1 {fp(x + start)} {fp(baseline - number * leading)} Tm")
        if spacing:
            parts.append(f"{fp(spacing)} Tw")
        for text, font_name, piece_colour, size in pieces:
            if piece_colour is not colour:
                fill = fill_operator(piece_colour)
                if fill is None:
                    return None
                parts.append(fill)
                colour = piece_colour
            shown = show(canvas, text, font_name, size)
            if shown is None:
                return None
            parts.append(shown)
        if spacing:
            parts.append("0 Tw")
    parts.append("ET Q")
    return " ".join(parts)


def show(canvas: Canvas, text: str, font_name: str, size: float) -> str | None:
    """The operators that select `font_name` at `size` and show `text` inside a text object
    (`Tf` and `Tj` per font subset), as reportlab's text object writes them; None for a font
    that is not an embedded TrueType font.  Remembered per document: a summary shows the
    same dashes, units and labels hundreds of times."""
    shown: dict[tuple[str, str, float], str] = canvas.__dict__.setdefault("_crlm_shown", {})
    key = (text, font_name, size)
    code = shown.get(key)
    if code is None:
        font = getFont(font_name)
        if not getattr(font, "_dynamicFont", False) or getattr(font, "shapable", False):
            return None
        doc = canvas._doc
        code = " ".join(
            f"{font.getSubsetInternalName(subset, doc)} {_size(size)} Tf "
            f"({data.decode('latin-1').translate(_ESCAPES)}) Tj"
            for subset, data in font.splitString(text, doc)
        )
        shown[key] = code
    return code


_ESCAPES = {
    code: f"\\{code:03o}" if code < 32 or code >= 127 else "\\" + chr(code)
    for code in (*range(32), *range(127, 256), *map(ord, "\\()"))
}
"""A PDF string's escapes, as reportlab's `escapePDF` writes them."""


@lru_cache(maxsize=4096)  # columns and rows put many texts at the same x or y
def fp(value: float) -> str:
    """`value` as reportlab writes a coordinate (`fp_str`: at most six significant
    decimals, no trailing zeros, `.5` for 0.5) — the pure-Python `fp_str` is slow."""
    magnitude = value if value >= 0 else -value
    if magnitude <= 1e-7:
        return "0"
    if magnitude <= 1:
        text = f"{value:.6f}"
    else:
        decimals = 6 - int(math.log10(magnitude))
        if decimals <= 0:
            return f"{value:.0f}"
        text = f"{value:.{decimals if decimals < 6 else 6}f}"
    text = text.rstrip("0").rstrip(".")
    return text[1:] if text[0] == "0" and len(text) > 1 else text


@lru_cache(maxsize=64)
def _size(size: float) -> str:
    return fp(size)


@lru_cache(maxsize=256)
def fill_operator(colour: Color) -> str | None:
    """`r g b rg` of a plain opaque RGB colour (None for any other kind)."""
    if type(colour) is not Color or getattr(colour, "alpha", 1) not in (None, 1):
        return None
    return f"{fp(colour.red)} {fp(colour.green)} {fp(colour.blue)} rg"
