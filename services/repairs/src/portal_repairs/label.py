"""The printable label of a repair: its QR and every line of its text whole, wrapped to the
label's width and shrunk when a word alone would not fit (a label never cuts text off).

Pure: the caller reads the repair. Text is set in a monospace font, so its width is the
count of character cells times the font's advance; each line also carries that width as
`textLength`, so a viewer whose monospace font is a little wider squeezes the line into
the label instead of running it past the edge.
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from dataclasses import dataclass
from html import escape

import segno

WIDTH = 400
MARGIN = 10
TEXT_WIDTH = WIDTH - 2 * MARGIN
# Advance of a monospace glyph in em (DejaVu Sans Mono, Menlo: 0.602; Consolas is narrower).
ADVANCE = 0.61
FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
SIZES = (14, 13, 12, 11, 10)
NUMBER_SIZE = 18
LEADING = 1.3


@dataclass(frozen=True)
class Line:
    text: str
    size: int
    bold: bool = False

    @property
    def width(self) -> float:
        return text_width(self.text, self.size)


def cells(text: str) -> int:
    """Character cells of `text` in a monospace font: wide (CJK) characters take two,
    combining marks none."""
    return sum(
        0
        if unicodedata.combining(ch)
        else 2
        if unicodedata.east_asian_width(ch) in ("W", "F")
        else 1
        for ch in unicodedata.normalize("NFC", text)
    )


def text_width(text: str, size: float) -> float:
    return cells(text) * ADVANCE * size


def _wrap(text: str, size: int, *, split_words: bool) -> list[str]:
    # textwrap counts characters: fine for the common case, checked in cells just after.
    columns = max(1, int(TEXT_WIDTH // (ADVANCE * size)))
    lines = textwrap.wrap(
        unicodedata.normalize("NFC", " ".join(text.split())),
        columns,
        break_long_words=split_words,
        break_on_hyphens=False,
    )
    fitted: list[str] = []
    for line in lines:  # a line of wide characters may still be too wide: cut it by cells
        while text_width(line, size) > TEXT_WIDTH and len(line) > 1:
            cut = len(line)
            while cut > 1 and text_width(line[:cut], size) > TEXT_WIDTH:
                cut -= 1
            if not split_words:
                return []  # a word does not fit at this size
            fitted.append(line[:cut])
            line = line[cut:]
        fitted.append(line)
    return fitted


def fit(text: str) -> list[Line]:
    """`text` as lines of the largest size at which no word has to be split; at the
    smallest size a word too long for the label is split rather than cut off."""
    if not text.strip():
        return []
    for size in SIZES:
        lines = _wrap(text, size, split_words=False)
        if lines and all(text_width(line, size) <= TEXT_WIDTH for line in lines):
            return [Line(line, size) for line in lines]
    return [Line(line, SIZES[-1]) for line in _wrap(text, SIZES[-1], split_words=True)]


def lines(repair_number: str, model: str, serial: str, deliverer: str) -> list[Line]:
    number = fit(repair_number)
    if len(number) == 1 and text_width(repair_number, NUMBER_SIZE) <= TEXT_WIDTH:
        number = [Line(repair_number, NUMBER_SIZE, bold=True)]
    return [*number, *fit(model), *fit(f"S/N {serial}"), *fit(deliverer)]


def svg(repair_number: str, model: str, serial: str, deliverer: str) -> str:
    """The label as SVG: the QR of the repair's number, then the number, the device, its
    serial and who delivered it, each whole; the label is as tall as its text needs."""
    qr = segno.make(f"portal-repair:{repair_number}", error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=4, xmldecl=False, svgns=True)
    code = buffer.getvalue().decode()
    y = MARGIN + qr.symbol_size(scale=4)[1]
    texts = []
    for line in lines(repair_number, model, serial, deliverer):
        y += round(line.size * LEADING)
        weight = ' font-weight="bold"' if line.bold else ""
        texts.append(
            f'<text x="{MARGIN}" y="{y}" font-family="{FONT}" font-size="{line.size}"{weight}'
            f' textLength="{line.width:.1f}" lengthAdjust="spacingAndGlyphs"'
            f' xml:space="preserve">{escape(line.text, quote=False)}</text>'
        )
    height = y + MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}">'
        f'<g transform="translate({MARGIN},{MARGIN})">{code}</g>{"".join(texts)}</svg>'
    )
