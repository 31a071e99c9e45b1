"""The PDF building blocks the exports share: titles, labelled fields, tables, tick boxes, bars.

Every piece of text passes through the font's `fit` (see `pdf_fonts`), so any name can be drawn.
A field the console cannot fill is left visibly blank for hand completion: a ruled line for a
short field, an empty ruled box for a long one. Each sheet notes, in order, the fields it
prints blank that the record could have filled (not those meant for a pen, such as a signature
or the partnership's own boxes); `BlankFinder` notes the same without drawing anything, so
a form's blanks can be told before it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fpdf import FPDF
from fpdf.fonts import FontFace

from dsl_console.services.exports.pdf_fonts import family_of, use_fonts

BLANK_LINE = "_" * 34  # what a short field the console cannot fill shows
TICKED, UNTICKED = "[X]", "[  ]"
# A table cell longer than this would not fit on one page; the rest goes to a continuation note.
CELL_LIMIT = 1200
_SHADE = (232, 232, 232)
_LABEL_STYLE = FontFace(emphasis="BOLD", fill_color=_SHADE)
# Explicit white: otherwise a tall empty cell can take the label's shading.
_VALUE_STYLE = FontFace(fill_color=(255, 255, 255))
_BODY_SIZE = 9.5
_CHART_SIZE = 8.5
_CHART_LINE = _CHART_SIZE * 0.45  # mm per line of a wrapped chart label


@dataclass(frozen=True)
class Field:
    """A labelled field of a form; `lines` is the height of the blank box when value is empty.

    `name` is what the list of blank fields calls it when its label would not say (an
    "Address" is the child's); `hand` marks a field left for a pen, never listed as blank.
    """

    label: str
    value: str = ""
    lines: int = 1
    name: str = ""
    hand: bool = False


class FormSheet(Protocol):
    """What a form's layout draws on: the PDF itself, or a BlankFinder."""

    def title_block(self, over: str, title: str, under: str = "") -> None: ...
    def heading(self, text: str) -> None: ...
    def paragraph(self, text: str, *, size: float = ...) -> None: ...
    def fields(self, fields: Sequence[Field], *, label_width: float = ...) -> None: ...
    def box(
        self, label: str, value: str, *, lines: int = ..., name: str = ..., hand: bool = ...
    ) -> None: ...
    def table_of(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        blank_rows: int = ...,
        name: str = ...,
        empty: str = ...,
    ) -> None: ...
    def choices(
        self,
        label: str,
        options: Sequence[str],
        chosen: str | None,
        *,
        name: str = ...,
        hand: bool = ...,
    ) -> None: ...
    def missing(self, name: str) -> None: ...
    def gap(self, height: float) -> None: ...
    def new_page(self) -> None: ...


class BlankFinder:
    """A sheet that draws nothing and notes, in the form's order, the fields that would print
    blank (each name once)."""

    def __init__(self) -> None:
        self.blanks: list[str] = []

    def missing(self, name: str) -> None:
        """Note a field (or part of one, such as the concern in a box of details) as blank."""
        if name not in self.blanks:
            self.blanks.append(name)

    def title_block(self, over: str, title: str, under: str = "") -> None:
        """Nothing to fill."""

    def heading(self, text: str) -> None:
        """Nothing to fill."""

    def paragraph(self, text: str, *, size: float = _BODY_SIZE) -> None:
        """Nothing to fill."""

    def gap(self, height: float) -> None:
        """Nothing to fill."""

    def new_page(self) -> None:
        """Nothing to fill."""

    def fields(self, fields: Sequence[Field], *, label_width: float = 0.36) -> None:
        """Each field with no value that the record could have filled."""
        for field in fields:
            if not field.value and not field.hand:
                self.missing(field.name or field.label)

    def box(
        self, label: str, value: str, *, lines: int = 4, name: str = "", hand: bool = False
    ) -> None:
        """A box with no text, unless it is left for a pen."""
        if not value and not hand:
            self.missing(name or label)

    def table_of(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        blank_rows: int = 2,
        name: str = "",
        empty: str = "",
    ) -> None:
        """A named table with no rows (a table that says "none" when empty is not blank)."""
        if not rows and name and not empty:
            self.missing(name)

    def choices(
        self,
        label: str,
        options: Sequence[str],
        chosen: str | None,
        *,
        name: str = "",
        hand: bool = False,
    ) -> None:
        """Tick boxes with none ticked, unless left for a pen."""
        if chosen is None and not hand:
            self.missing(name or label)


class ExportPdf(FPDF):
    """An A4 document with the export's font, a footer on every page and form-like blocks."""

    def __init__(self, footer_note: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.fit = use_fonts(self)
        self.family = family_of(self)
        self._footer_note = footer_note
        self._continued: list[tuple[str, str]] = []
        self._blank = BlankFinder()
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=16)
        self.add_page()
        self.set_font(self.family, size=_BODY_SIZE)

    def footer(self) -> None:
        """Every page says what it is and which page of how many."""
        self.set_y(-12)
        self.set_font(self.family, size=7)
        width = self.w - self.l_margin - self.r_margin
        self.cell(width - 24, 5, self.fit(self._footer_note))
        self.cell(24, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_font(self.family, size=_BODY_SIZE)

    @property
    def blanks(self) -> list[str]:
        """The fields printed blank so far that the record could have filled, in order."""
        return self._blank.blanks

    def missing(self, name: str) -> None:
        """Note a field (or part of one) the layout prints blank; nothing is drawn."""
        self._blank.missing(name)

    def gap(self, height: float) -> None:
        """Vertical space."""
        self.ln(height)

    def new_page(self) -> None:
        """Start a new page."""
        self.add_page()

    # -- text --------------------------------------------------------------------------------
    def title_block(self, over: str, title: str, under: str = "") -> None:
        """The partnership's name above the form's title, and the form's own instruction."""
        self.set_font(self.family, "B", 10)
        self.multi_cell(0, 5, self.fit(over), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "B", 14)
        self.multi_cell(0, 7, self.fit(title), align="L", new_x="LMARGIN", new_y="NEXT")
        if under:
            self.set_font(self.family, "", 8.5)
            self.multi_cell(0, 4.5, self.fit(under), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, size=_BODY_SIZE)
        self.ln(2)

    def heading(self, text: str) -> None:
        """A section heading on a shaded band."""
        self.ln(2)
        if self.will_page_break(20):
            self.add_page()
        self.set_font(self.family, "B", 10.5)
        self.set_fill_color(*_SHADE)
        self.multi_cell(0, 6.5, self.fit(text), fill=True, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, size=_BODY_SIZE)
        self.ln(1)

    def paragraph(self, text: str, *, size: float = _BODY_SIZE) -> None:
        """Running text that flows across pages."""
        self.set_font(self.family, size=size)
        self.multi_cell(0, size * 0.5, self.fit(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, size=_BODY_SIZE)

    # -- form blocks -------------------------------------------------------------------------
    def fields(self, fields: Sequence[Field], *, label_width: float = 0.36) -> None:
        """Label | value rows, as the partnerships' forms lay them out; blanks stay blank."""
        self._blank.fields(fields)
        with self.table(
            col_widths=(label_width, 1 - label_width),
            first_row_as_headings=False,
            text_align="LEFT",
            v_align="TOP",
            line_height=_BODY_SIZE * 0.5,
            padding=1.2,
        ) as table:
            for field in fields:
                blank_height = _BODY_SIZE * 0.5 * field.lines + 2.4
                row = table.row(min_height=blank_height if not field.value else None)
                row.cell(self.fit(field.label), style=_LABEL_STYLE)
                if field.value:
                    row.cell(self._cell_text(field.label, field.value), style=_VALUE_STYLE)
                else:
                    row.cell(BLANK_LINE if field.lines == 1 else "", style=_VALUE_STYLE)

    def box(
        self, label: str, value: str, *, lines: int = 4, name: str = "", hand: bool = False
    ) -> None:
        """A labelled box for long text, flowing across pages; an empty ruled box when blank."""
        self._blank.box(label, value, name=name, hand=hand)
        if self.will_page_break(12):
            self.add_page()
        self.set_font(self.family, "B", _BODY_SIZE)
        self.set_fill_color(*_SHADE)
        self.multi_cell(
            0, 5, self.fit(label), border=1, fill=True, align="L", new_x="LMARGIN", new_y="NEXT"
        )
        self.set_font(self.family, size=_BODY_SIZE)
        if value:
            self.multi_cell(
                0,
                4.8,
                self.fit(value),
                border=1,
                padding=1,
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            return
        height = 6.0 * lines
        if self.will_page_break(height):
            self.add_page()
        x, y = self.l_margin, self.get_y()
        width = self.w - self.l_margin - self.r_margin
        self.rect(x, y, width, height)
        self.set_draw_color(190, 190, 190)
        for n in range(1, lines):
            self.line(x + 2, y + 6.0 * n, x + width - 2, y + 6.0 * n)
        self.set_draw_color(0, 0, 0)
        self.set_y(y + height)

    def table_of(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        blank_rows: int = 2,
        name: str = "",
        empty: str = "",
    ) -> None:
        """A table with a header row; with no rows, empty ruled rows for hand completion, or
        `empty` (e.g. "None recorded.") for a table of what happened."""
        self._blank.table_of(headers, rows, widths, name=name, empty=empty)
        if not rows and empty:
            self.paragraph(empty)
            return
        if self.will_page_break(20):
            self.add_page()
        with self.table(
            col_widths=tuple(widths),
            text_align="LEFT",
            v_align="TOP",
            line_height=_BODY_SIZE * 0.5,
            padding=1.2,
            headings_style=_LABEL_STYLE,
        ) as table:
            table.row([self.fit(h) for h in headers])
            for cells in rows:
                row = table.row()
                for header, text in zip(headers, cells, strict=True):
                    row.cell(self._cell_text(header, text))
            for _ in range(0 if rows else blank_rows):
                table.row([""] * len(headers), min_height=8)

    def choices(
        self,
        label: str,
        options: Sequence[str],
        chosen: str | None,
        *,
        name: str = "",
        hand: bool = False,
    ) -> None:
        """A line of tick boxes, the chosen one ticked; none ticked when the console cannot say."""
        self._blank.choices(label, options, chosen, name=name, hand=hand)
        marks = "   ".join(f"{o} {TICKED if o == chosen else UNTICKED}" for o in options)
        self.fields([Field(label, marks)])

    def continuations(self) -> None:
        """The full text of any table cell that was too long to fit, after the form."""
        if not self._continued:
            return
        self.heading("Continuation notes")
        for number, (label, text) in enumerate(self._continued, start=1):
            self.box(f"Note {number}: {label} (full text)", text)
            self.ln(1)

    def _cell_text(self, label: str, text: str) -> str:
        if len(text) <= CELL_LIMIT:
            return self.fit(text)
        # The same text in two tables (the form and the record) shares one note.
        texts = [full for _, full in self._continued]
        if text in texts:
            number = texts.index(text) + 1
        else:
            self._continued.append((label, text))
            number = len(self._continued)
        head = text[:CELL_LIMIT].rsplit(" ", 1)[0]
        return self.fit(f"{head} ... (continued in note {number})")

    # -- charts ------------------------------------------------------------------------------
    def bar_chart(
        self,
        title: str,
        bars: Sequence[tuple[str, int]],
        colours: Sequence[tuple[int, int, int]] = ((70, 110, 160),),
    ) -> None:
        """Horizontal bars, one per label, scaled to the largest value, the value at the end.

        `colours` are used in turn, bar after bar (e.g. kept / missed pairs). A label too long
        for the label column (a free-text reason, a long agency name) is written whole across
        the page above its bar, wrapped and flowing onto the next page if need be: cut short
        it could no longer be told from another, and on one line it would run off the page.
        """
        self.heading(title)
        if not bars:
            self.paragraph("None in this period.")
            return
        label_w, bar_h, gap = 62.0, 5.0, 1.6
        room = self.w - self.l_margin - self.r_margin - label_w - 14
        top = max(value for _, value in bars) or 1
        self.set_font(self.family, size=_CHART_SIZE)
        for index, (label, value) in enumerate(bars):
            text = self.fit(label)
            one_line = "\n" not in text and self.get_string_width(text) <= label_w - 2
            if self.will_page_break(bar_h + gap + (0 if one_line else 2 * _CHART_LINE)):
                self.add_page()
            if not one_line:
                self.multi_cell(0, _CHART_LINE, text, align="L", new_x="LMARGIN", new_y="NEXT")
                if self.will_page_break(bar_h + gap):
                    self.add_page()
            x, y = self.l_margin, self.get_y()
            self.set_xy(x, y)
            if one_line:
                self.cell(label_w - 2, bar_h, text, align="R")
            width = room * value / top
            if width > 0:
                self.set_fill_color(*colours[index % len(colours)])
                self.rect(x + label_w, y + 0.6, width, bar_h - 1.2, style="F")
            self.set_xy(x + label_w + width + 1.5, y)
            self.cell(12, bar_h, str(value))
            self.set_y(y + bar_h + gap)
        self.set_font(self.family, size=_BODY_SIZE)
