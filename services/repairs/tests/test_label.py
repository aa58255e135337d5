"""The printable label: every line of text is drawn whole and fits the label's width,
measured with fpdf2 in the font the label names (its built-in Courier, of the same 0.6 em
advance, where DejaVu Sans Mono is not installed). No I/O but the font file."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fpdf import FPDF

from portal_repairs.label import MARGIN, svg

MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf")
NS = "{http://www.w3.org/2000/svg}"

LONG_MODEL = (
    "Laptop Dell Latitude 7440 14 inch Intel Core i7-1365U vPro 32GB RAM 1TB SSD "
    "bản doanh nghiệp màu bạc kèm sạc USB-C 65W"
)
LONG_NAME = "Công ty TNHH Thương mại Dịch vụ Kỹ thuật Ánh Dương Phương Nam (chi nhánh Thủ Đức)"


def measure(text: str, size: float, bold: bool) -> float:
    """The width fpdf2 gives `text` at `size` (points of a PDF in points: the SVG's px)."""
    pdf = FPDF(unit="pt")
    if MONO.is_file() and BOLD.is_file():
        pdf.add_font("Mono", "", MONO)
        pdf.add_font("Mono", "B", BOLD)
        pdf.set_font("Mono", "B" if bold else "", size)
    else:  # Latin-1 only: fold the diacritics (one cell each, like the letters they sit on)
        pdf.set_font("Courier", "B" if bold else "", size)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return float(pdf.get_string_width(text))


def drawn(label: str) -> tuple[float, list[tuple[str, float, bool]]]:
    root = ET.fromstring(label)
    texts = [
        (t.text or "", float(t.attrib["font-size"]), t.attrib.get("font-weight") == "bold")
        for t in root.iter(f"{NS}text")
    ]
    return float(root.attrib["width"]), texts


def words(text: str) -> list[str]:
    return unicodedata.normalize("NFC", text).split()


@pytest.mark.parametrize(
    ("model", "serial", "deliverer"),
    [
        ("iPhone 13", "F2LXK0AAPLQ1", "An"),
        (LONG_MODEL, "SN-ABCDEF0123456789XYZ", LONG_NAME),
        # One word longer than the label: split over lines, never cut off.
        ("X" * 90, "S" * 70, "Nguyễn Thị Thanh Hương"),
        ("ThinkPad 联想 笔记本电脑 " * 4, "PF-3K9Q", "Trần Văn Bình"),
    ],
)
def test_every_line_is_whole_and_fits(model: str, serial: str, deliverer: str) -> None:
    width, texts = drawn(svg("R-2026-000123", model, serial, deliverer))
    for text, size, bold in texts:
        assert MARGIN + measure(text, size, bold) <= width - MARGIN, (text, size)
    # Nothing is dropped: the words drawn are the label's words, in order.
    shown = "".join(text for text, _, _ in texts)
    expected = "".join(["R-2026-000123", model, "S/N", serial, deliverer])
    assert "".join(words(shown)) == "".join(words(expected))


def test_long_text_keeps_a_readable_size_and_the_label_grows() -> None:
    short = ET.fromstring(svg("R-1", "iPhone 13", "F2LX", "An"))
    long = ET.fromstring(svg("R-1", LONG_MODEL, "F2LX", LONG_NAME))
    assert float(long.attrib["height"]) > float(short.attrib["height"])
    _, texts = drawn(ET.tostring(long, encoding="unicode"))
    assert min(size for _, size, _ in texts) >= 10
    # Lines do not overlap: each baseline is at least a line below the one before.
    ys = [float(t.attrib["y"]) for t in long.iter(f"{NS}text")]
    sizes = [float(t.attrib["font-size"]) for t in long.iter(f"{NS}text")]
    assert all(b - a >= size for a, b, size in zip(ys, ys[1:], sizes[1:], strict=False))
