"""A streamed .xlsx (Office Open XML) writer for long lists: the parts a spreadsheet needs
and one worksheet written row by row into the zip as the rows come.

openpyxl's write-only mode builds every cell as an object and an lxml element: 7.0 s for
10,000 rows of 19 columns on this machine, where writing the sheet's XML directly takes 1.7 s
(benchmarks/README.md); a city's 100,000 records in the national template's 63 columns would
take minutes. Every text is an inline string (`t="inlineStr"`): Excel shows it and
never evaluates it, so a name beginning with "=" stays a name; numbers are numbers.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name={name} sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
# Styles: 0 the default, 1 text ("@", built-in format 49), 2 a bold text header.
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="2"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
SHEET_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>
<sheetFormatPr defaultRowHeight="15"/>
"""


def write(
    out: IO[bytes],
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    text_columns: Sequence[bool],
) -> None:
    """One sheet named `title`: the header row (bold, frozen), then `rows` as they come.
    A value is None (an empty cell), an int or float (a number) or a str (text, which
    must hold no XML-illegal control characters)."""
    letters = [get_column_letter(i + 1) for i in range(len(headers))]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK.format(name=quoteattr(title[:31])))
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        book.writestr("xl/styles.xml", STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD.encode())
            sheet.write(_cols(widths, text_columns).encode())
            sheet.write(b"<sheetData>")
            sheet.write(_row(1, letters, headers, ' s="2"').encode())
            buffered: list[str] = []
            for n, row in enumerate(rows, start=2):
                buffered.append(_row(n, letters, row))
                if len(buffered) == 500:
                    sheet.write("".join(buffered).encode())
                    buffered.clear()
            sheet.write("".join(buffered).encode())
            sheet.write(b"</sheetData></worksheet>")


def _cols(widths: Sequence[float], text_columns: Sequence[bool]) -> str:
    text_style = ' style="1"'
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w:.1f}" customWidth="1"{text_style if t else ""}/>'
        for i, (w, t) in enumerate(zip(widths, text_columns, strict=True), start=1)
    )
    return f"<cols>{cols}</cols>"


def _row(n: int, letters: list[str], values: Sequence[Any], style: str = "") -> str:
    cells = []
    for letter, value in zip(letters, values, strict=False):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""
            cells.append(
                f'<c r="{letter}{n}" t="inlineStr"{style}><is><t{space}>{escape(value)}</t></is></c>'
            )
        else:
            cells.append(f'<c r="{letter}{n}"{style}><v>{value}</v></c>')
    return f'<row r="{n}">{"".join(cells)}</row>'
