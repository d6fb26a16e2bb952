"""Bundled fonts and user text: escaping, a font per script, right-to-left order, licences."""

from __future__ import annotations

import unicodedata

import pytest
from reportlab.platypus import Paragraph

from crlmboard.report import fonts
from crlmboard.report.fonts import (
    ARABIC,
    CJK,
    FONT_DIR,
    HEBREW,
    SANS,
    SYMBOLS,
    fallback,
    family_for,
    markup,
    runs,
    string_width,
    visual,
)
from crlmboard.report.styles import styles

pytestmark = pytest.mark.pdf


def test_bundled_fonts_are_truetype_small_and_licensed() -> None:
    files = sorted(FONT_DIR.iterdir())
    total = sum(f.stat().st_size for f in files)
    assert total < 20 * 1024 * 1024
    for family in fonts.FAMILIES:
        for name in (family.regular, family.bold, family.italic, family.bold_italic):
            if name:
                data = (FONT_DIR / name).read_bytes()[:4]
                assert data == b"\x00\x01\x00\x00", f"{name} is not TrueType (glyf) outlines"
    names = {f.name for f in files}
    assert {"OFL-1.1.txt", "LICENSE-Apache-2.0.txt", "LICENSE-DejaVu.txt", "README.md"} <= names


def test_register_fonts_is_idempotent() -> None:
    fonts.register_fonts()
    fonts.register_fonts()
    assert string_width("abc", 10) > 0


@pytest.mark.parametrize(
    ("char", "family"),
    [
        ("a", SANS),
        ("é", SANS),
        ("Ω", SANS),
        ("Ж", SANS),
        ("ب", ARABIC),
        ("ש", HEBREW),
        ("中", CJK),
        ("カ", CJK),
        ("한", CJK),
        ("≥", SYMBOLS),
        ("→", SYMBOLS),
    ],
)
def test_each_script_has_its_font(char: str, family: str) -> None:
    assert family_for(char) == family


def test_markup_escapes_every_special_character() -> None:
    assert markup("T2 <N0 & M0>") == "T2 &lt;N0 &amp; M0&gt;"
    assert markup("a\nb") == "a<br/>b"
    assert markup("a\nb", newlines=False) == "a b"
    assert markup(None) == "" and markup("") == ""
    for text in ("<para>", "</para>", "<b>", "&amp;", "<font name='x'>", "<br/>", "<"):
        paragraph = Paragraph(markup(text), styles().body)  # parses without error
        paragraph.wrap(200, 100)
        assert paragraph.getPlainText() == text


def test_markup_puts_other_scripts_in_their_fonts() -> None:
    text = markup("Name: 测试 ≥ 3")
    assert f'<font face="{CJK}">测试</font>' in text
    assert f'<font face="{SYMBOLS}">≥</font>' in text
    assert text.startswith("Name: ")
    assert f'<font face="{CJK}"><b>测试</b></font>' in markup("测试", bold=True)


def test_right_to_left_text_is_shaped_and_reordered() -> None:
    logical = "سارة"
    drawn = visual(logical)
    assert drawn != logical
    assert unicodedata.normalize("NFKC", drawn)[::-1] == logical  # joined forms, reversed
    assert visual("Ada") == "Ada"
    hebrew = visual("דוד כהן")
    assert hebrew == "ןהכ דוד"
    mixed = runs("MRN 1: כהן")
    assert mixed[0] == (SANS, "MRN 1: ") and mixed[-1] == (HEBREW, "ןהכ")


def test_fallback_leaves_tags_alone() -> None:
    assert fallback("<b>x ≥ 1</b>") == f'<b>x <font face="{SYMBOLS}">≥</font> 1</b>'
    assert fallback("plain <i>text</i>") == "plain <i>text</i>"
