"""The file the user uploaded, given back as .xlsx with a column 错误说明 on the rows to
fix: the same headers and rows where they were, so the user corrects their own sheet and
uploads it again. A cell's value is kept as text, so an ID number keeps its X and zeros."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePath

import xlrd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from .spreadsheets import RowError

HEADER = "错误说明"
RED = Font(color="FFFF0000")


def annotated_copy(data: bytes, filename: str, errors: Iterable[RowError]) -> bytes:
    """The uploaded sheet with 错误说明 after its last column, filled where a row has errors."""
    by_row: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        if error.row is not None:
            by_row[error.row].append(
                f"{error.field}：{error.message}" if error.field else error.message
            )
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        book = load_workbook(io.BytesIO(data))
        sheet = book.worksheets[0]
        for extra in book.worksheets[1:]:
            book.remove(extra)
    else:
        book = Workbook()
        sheet = book.active
        for number, values in _records(data, suffix):
            for index, value in enumerate(values, start=1):
                if value not in ("", None):
                    sheet.cell(row=number, column=index, value=str(value)).number_format = "@"
    header_row = next(
        (r[0].row for r in sheet.iter_rows() if any(c.value not in (None, "") for c in r)), 1
    )
    width = max((c.column for c in sheet[header_row] if c.value not in (None, "")), default=0)
    column = width + 1
    sheet.cell(row=header_row, column=column, value=HEADER).font = Font(bold=True, color="FFFF0000")
    for number, messages in sorted(by_row.items()):
        cell = sheet.cell(row=number, column=column, value="；".join(messages))
        cell.font = RED
    sheet.column_dimensions[sheet.cell(row=header_row, column=column).column_letter].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _records(data: bytes, suffix: str) -> Iterable[tuple[int, list]]:
    """(sheet row number, values) of a CSV (UTF-8, else GB18030) or a legacy .xls file."""
    if suffix == ".xls":
        sheet = xlrd.open_workbook(file_contents=data).sheet_by_index(0)
        for index in range(sheet.nrows):
            yield index + 1, [_xls_text(c) for c in sheet.row(index)]
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    yield from enumerate(csv.reader(io.StringIO(text, newline="")), start=1)


def _xls_text(cell) -> str:
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
