"""Fonts for the PDF exports: a Unicode TrueType font if the system has one, else Helvetica.

fpdf2 bundles no Unicode font: only the 14 core PDF fonts, which encode Latin-1 alone, so
"Łukasz" cannot be drawn with them. The console ships no font files (nothing extra to install
or license). It uses the first of DejaVu Sans (Debian/Ubuntu fonts-dejavu-core, Fedora, Arch),
Liberation Sans, or Arial (Windows, macOS) that it finds; failing all of those it falls back
to Helvetica and transliterates what Latin-1 lacks ("Łukasz" -> "Lukasz", "–" -> "-"), with
"?" for a character that has no Latin form. Either way every character is checked against the
chosen font before it is drawn, so fpdf2 never warns about a missing glyph: its warning would
quote the character, a piece of a child's name, into the log.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from fpdf import FPDF

from dsl_console.core.terminal_text import BIDI

FAMILY = "body"  # the family name every PDF export sets its text in
FALLBACK_FAMILY = "helvetica"

_WINDIR = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
# (regular, bold) pairs, most likely first; the bold face falls back to the regular one.
FONT_CANDIDATES: Sequence[tuple[Path, Path]] = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),
        Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (Path("/usr/share/fonts/TTF/DejaVuSans.ttf"), Path("/usr/share/fonts/TTF/DejaVuSans-Bold.ttf")),
    (
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ),
    (_WINDIR / "arial.ttf", _WINDIR / "arialbd.ttf"),
    (
        Path("/System/Library/Fonts/Supplemental/Arial.ttf"),
        Path("/System/Library/Fonts/Supplemental/Arial Bold.ttf"),
    ),
    (Path("/Library/Fonts/Arial.ttf"), Path("/Library/Fonts/Arial Bold.ttf")),
)

# Letters NFKD cannot take apart, and punctuation Latin-1 lacks.
_LATIN = str.maketrans(
    {
        "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŀ": "L",
        "ŀ": "l", "Œ": "OE", "œ": "oe", "Ŋ": "N", "ŋ": "n", "ſ": "s", "ĸ": "k", "Ə": "E",
        "ə": "e", "–": "-", "—": "-", "‐": "-", "‘": "'", "’": "'", "‚": ",", "“": '"',
        "”": '"', "„": '"', "…": "...", "•": "*", "€": "EUR", "™": "TM",
    }
)  # fmt: skip


# Control characters dropped from drawn text (C0, DEL, C1, and the bidirectional ones, which
# a database written outside the console may hold: a name drawn backwards on a form); tab
# becomes a space, a lone CR a new line.
_CONTROLS = {c: None for c in (*range(32), *range(0x7F, 0xA0)) if c != 10} | {9: " ", 13: "\n"}


def find_unicode_font(candidates: Sequence[tuple[Path, Path]] | None = None) -> tuple[Path, Path]:
    """The (regular, bold) TrueType files to use, or raise LookupError if none is installed."""
    for regular, bold in FONT_CANDIDATES if candidates is None else candidates:
        if regular.is_file():
            return regular, bold if bold.is_file() else regular
    raise LookupError("no Unicode TrueType font found")


def use_fonts(pdf: FPDF) -> Callable[[str], str]:
    """Register the export font on `pdf` as FAMILY; return the function that makes text drawable."""
    try:
        regular, bold = find_unicode_font()
        pdf.add_font(FAMILY, "", str(regular))
        pdf.add_font(FAMILY, "B", str(bold))
    except Exception:  # no font, or one fpdf2 cannot read: the core font still works
        return _latin1_text
    covered = set(pdf.fonts[FAMILY].cmap) & set(pdf.fonts[FAMILY + "B"].cmap)  # type: ignore[union-attr]
    covered.add(ord("\n"))  # a line break is layout, not a glyph
    return lambda text: _fit(text, covered)


def family_of(pdf: FPDF) -> str:
    """The family to select on `pdf`: the Unicode one if `use_fonts` registered it."""
    return FAMILY if FAMILY in pdf.fonts else FALLBACK_FAMILY


def _fit(text: str, covered: set[int]) -> str:
    """Text with every character the font lacks replaced by its Latin form, or "?"."""
    text = _drop_controls(text)
    if all(ord(ch) in covered for ch in text):
        return text
    out = []
    for ch in text:
        if ord(ch) in covered:
            out.append(ch)
            continue
        latin = _latin_form(ch)
        out.append(latin if all(ord(c) in covered for c in latin) else "?")
    return "".join(out)


def _latin1_text(text: str) -> str:
    """Text the core fonts can encode: Latin-1, with the rest transliterated or "?"."""
    text = _drop_controls(text)
    if all(ch <= "\xff" for ch in text):
        return text
    out = []
    for ch in text:
        if ch <= "\xff":
            out.append(ch)
            continue
        latin = _latin_form(ch)
        out.append(latin if all(c <= "\xff" for c in latin) else "?")
    return "".join(out)


def _latin_form(ch: str) -> str:
    """A character's nearest Latin form: a fixed table, else its base letter without accents."""
    mapped = ch.translate(_LATIN)
    if mapped != ch:
        return mapped
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)) or "?"


def _drop_controls(text: str) -> str:
    """Text without control characters other than newlines (a stray CR or NUL draws a box)."""
    text = text.replace("\r\n", "\n").translate(_CONTROLS)
    return text if text.isascii() else BIDI.sub("", text)
