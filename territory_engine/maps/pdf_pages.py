"""A PDF whose pages are PNG pictures with a title and a table, written page by page.

A PNG's image data (its IDAT chunks) is a zlib stream of rows, each led by a filter byte,
which is exactly what a PDF image with ``/FlateDecode`` and the PNG predictors
(``/DecodeParms << /Predictor 15 >>``) holds (PDF 1.7, ISO 32000-1, 7.4.4.4; the method of
img2pdf). So each page costs a copy of the PNG's bytes: the pictures are drawn in parallel by
the map book's workers and the PDF is assembled in the main process at no further cost.
Only 8-bit, non-interlaced RGB or grey PNGs are taken (what :func:`~.book_page.rgb_png` writes).
The title and the table are PDF text in the standard Helvetica fonts (selectable, searchable,
sharp in print), measured with the Adobe font metrics that matplotlib ships, so that figures
can be right-aligned; text outside Windows-1252 shows as "?".
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Sequence

__all__ = ["PdfPictures", "png_size", "text_width"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOURS = {0: (1, "/DeviceGray"), 2: (3, "/DeviceRGB")}


def _chunks(png: bytes):
    """(type, data) of each chunk of a PNG."""
    if not png.startswith(_SIGNATURE):
        raise ValueError("not a PNG")
    at = len(_SIGNATURE)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind = png[at + 4:at + 8]
        yield kind, png[at + 8:at + 8 + length]
        at += 12 + length


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, pixels."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@lru_cache(maxsize=None)
def _widths(font: str) -> dict[int, int]:
    """Glyph widths (1/1000 em) by character code of a standard font, from matplotlib's AFM file."""
    import matplotlib

    widths = {}
    afm = Path(matplotlib.get_data_path()) / "fonts" / "pdfcorefonts" / f"{font}.afm"
    for line in afm.read_text(encoding="latin-1").splitlines():
        if line.startswith("C ") and "WX" in line:
            fields = dict(part.strip().split(" ", 1) for part in line.split(";") if part.strip())
            code = int(fields["C"])
            if code >= 0:
                widths[code] = int(fields["WX"])
    return widths


def text_width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points, in the standard ``font`` (``"Helvetica"``) at ``size`` points."""
    widths = _widths(font)
    return sum(widths.get(byte, 556) for byte in text.encode("cp1252", errors="replace")) * size / 1000


def _string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding: bytes beyond ASCII and ``( ) \\`` escaped."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252", errors="replace"):
        out += b"\\%03o" % byte if byte > 126 or byte < 32 or byte in b"()\\" else bytes([byte])
    return bytes(out + b")")


def _pdf_text(text: str) -> bytes:
    """A PDF text string: UTF-16 with its byte-order mark, as hex (no escaping needed)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _table_ops(rows: Sequence[Sequence[str]], left: float, top: float, width: float, *, size: float = 10.5,
               row_height: float = 21.0) -> list[bytes]:
    """Drawing operators of a table: a grey header band, grid lines, the text of the cells."""
    columns = max(len(row) for row in rows)
    first = width * 0.46 if columns > 1 else width
    step = (width - first) / max(columns - 1, 1)
    edges = [left, left + first] + [left + first + step * (i + 1) for i in range(columns - 1)]
    bottom = top - row_height * len(rows)
    ops = [b"q 0.94 g %.2f %.2f %.2f %.2f re f Q" % (left, top - row_height, width, row_height),
           b"q 0.75 G 0.6 w"]
    for i in range(len(rows) + 1):
        ops.append(b"%.2f %.2f m %.2f %.2f l S" % (left, top - i * row_height, left + width, top - i * row_height))
    for x in edges[:columns + 1]:
        ops.append(b"%.2f %.2f m %.2f %.2f l S" % (x, top, x, bottom))
    ops.append(b"Q")
    for r, row in enumerate(rows):
        font, name = ("Helvetica-Bold", b"/F2") if r == 0 else ("Helvetica", b"/F1")
        y = top - (r + 1) * row_height + (row_height - size) / 2 + 2
        for c, text in enumerate(row):
            if not text:
                continue
            x = edges[c] + 5 if c == 0 else edges[c + 1] - 5 - text_width(text, font, size)
            ops.append(b"BT %s %.1f Tf 0 g %.2f %.2f Td %s Tj ET" % (name, size, x, y, _string(text)))
    return ops


class PdfPictures:
    """Write a PDF to an open binary file, one PNG picture per page.

    Parameters
    ----------
    file : binary file
        Open for writing; the caller closes it.
    page_size_pt : (float, float)
        Width and height of every page, points (1/72 inch); each picture is shown as large as
        fits, centred.
    title : str
        The document's title (its Info dictionary).

    Examples
    --------
    >>> with open(path, "wb") as f:                      # doctest: +SKIP
    ...     pdf = PdfPictures(f, (960, 540), title="Map book")
    ...     for png in pictures:
    ...         pdf.add_page(png)
    ...     pdf.close()
    """

    _PAGES = 1  # object numbers fixed in advance: the page tree, the catalogue, the info, the fonts
    _CATALOG = 2
    _INFO = 3
    _FONTS = {"Helvetica": 4, "Helvetica-Bold": 5}

    def __init__(self, file: BinaryIO, page_size_pt: tuple[float, float], *, title: str = ""):
        self.file = file
        self.size = page_size_pt
        self.offsets: dict[int, int] = {}
        self.pages: list[int] = []
        self.next_number = 6
        self.written = 0
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self._object(self._INFO, b"<< /Title " + _pdf_text(title) + b" /Producer (Territory Planner) >>")
        self._object(self._CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % self._PAGES)
        for font, number in self._FONTS.items():
            self._object(number, b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
                         % font.encode())

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.written += len(data)

    def _object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[number] = self.written
        self._write(b"%d 0 obj\n" % number + body)
        if stream is not None:
            self._write(b"\nstream\n")
            self._write(stream)
            self._write(b"\nendstream")
        self._write(b"\nendobj\n")

    def _number(self) -> int:
        self.next_number += 1
        return self.next_number - 1

    def add_page(self, png: bytes, *, box: tuple[float, float, float, float] | None = None, title: str = "",
                 table: Sequence[Sequence[str]] = (), table_box: tuple[float, float, float] | None = None) -> None:
        """Add a page showing ``png``, with an optional title and table.

        Parameters
        ----------
        png : bytes
            An 8-bit, non-interlaced RGB or grey PNG.
        box : (left, bottom, width, height), optional
            Where the picture goes, points; by default the whole page. It is shown as large as
            fits in the box, centred.
        title : str
            Bold text across the top of the page.
        table : rows of str
            The first row is the header (bold); the first column is left-aligned, the others
            right-aligned.
        table_box : (left, top, width), optional
            Where the table goes, points.
        """
        header = dict(_chunks(png[:33]))[b"IHDR"]
        width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
        if depth != 8 or colour_type not in _COLOURS or interlace:
            raise ValueError(f"only 8-bit non-interlaced RGB or grey PNGs, not depth {depth} type {colour_type}")
        colours, space = _COLOURS[colour_type]
        data = b"".join(chunk for kind, chunk in _chunks(png) if kind == b"IDAT")
        image, content, page = self._number(), self._number(), self._number()
        self._object(image, b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                     b"/BitsPerComponent 8 /Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors %d "
                     b"/BitsPerComponent 8 /Columns %d >> /Length %d >>"
                     % (width, height, space.encode(), colours, width, len(data)), data)
        left, bottom, box_width, box_height = box or (0.0, 0.0, *self.size)
        scale = min(box_width / width, box_height / height)
        shown = (width * scale, height * scale)
        at = (left + (box_width - shown[0]) / 2, bottom + (box_height - shown[1]) / 2)
        ops = [b"q %.3f 0 0 %.3f %.3f %.3f cm /Im0 Do Q" % (*shown, *at)]
        if title:
            ops.append(b"BT /F2 22 Tf 0 g %.3f %.3f Td %s Tj ET" % (left, self.size[1] - 42, _string(title)))
        if table and table_box:
            ops += _table_ops(table, *table_box)
        draw = zlib.compress(b"\n".join(ops))
        self._object(content, b"<< /Filter /FlateDecode /Length %d >>" % len(draw), draw)
        fonts = b" ".join(b"/F%d %d 0 R" % (i, n) for i, n in enumerate(self._FONTS.values(), start=1))
        self._object(page, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.3f %.3f] /Contents %d 0 R "
                     b"/Resources << /XObject << /Im0 %d 0 R >> /Font << %s >> >> >>"
                     % (self._PAGES, self.size[0], self.size[1], content, image, fonts))
        self.pages.append(page)

    def close(self) -> None:
        """Write the page tree, the cross-reference table and the trailer (the file stays open)."""
        kids = b" ".join(b"%d 0 R" % page for page in self.pages)
        self._object(self._PAGES, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(self.pages))
        start = self.written
        count = self.next_number
        table = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
        table += [b"%010d 00000 n \n" % self.offsets[number] for number in range(1, count)]
        self._write(b"".join(table))
        self._write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                    % (count, self._CATALOG, self._INFO, start))
