"""Lists as files a registrar opens in Excel: .xlsx and CSV with Chinese headers.

Rows are written as the query yields them (webapp/xlsx.py, a CSV writer) into a
temporary file that spills to disk, so a city's million records never sit in memory at
once. Every code, ID number and phone number is a text cell, so Excel keeps the leading
zeros and the X; a cell that Excel would read as a formula (=, +, -, @, tab, CR) is written
inert: a plain string cell in .xlsx, a leading quote in CSV (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from itertools import chain, islice
from typing import IO, Any
from urllib.parse import quote

from flask import Response, send_file
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from forms.spreadsheets import FORMULA_STARTS

from . import xlsx
from .extensions import db
from .models import CHINA, audit, china_today

FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
SAMPLE_ROWS = 200  # the rows the column widths are measured on
MAX_WIDTH = 60
CHUNK = 1000  # rows read from the database at a time
SPILL_BYTES = 8 * 1024 * 1024  # a file larger than this is kept on disk until sent


@dataclass(frozen=True)
class Sheet:
    """One list as a file: its title (the sheet's and the file's name), the headers and the
    rows, each a sequence of cell values (str, int or None) in the headers' order."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]


def in_chunks(query, size: int | None = None) -> Iterator[list]:
    """The query's rows in lists of `size`, read through one cursor (`yield_per`), so a
    list's eager loads run once per chunk and the rows of one chunk at most are held."""
    size = size or CHUNK
    rows = iter(query.yield_per(size))
    while chunk := list(islice(rows, size)):
        yield chunk


def text(value: Any) -> str:
    """A value as the text a cell shows: blank for None, ISO for a date."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def local_time(value) -> str:
    """A stored (naive UTC) time as Beijing time, to the minute."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _width(value: Any) -> int:
    """Display width: a Chinese character takes two columns."""
    shown = text(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in shown)


def _clean(value: Any) -> Any:
    """What a cell holds: None, a number, or text without the control characters an .xlsx
    cannot hold (the common cases first: this runs for every cell)."""
    kind = type(value)
    if kind is str:
        return value if value.isprintable() else ILLEGAL_CHARACTERS_RE.sub("", value)
    if value is None or kind is int or kind is float:
        return value
    if kind is bool:
        return "是" if value else "否"
    return ILLEGAL_CHARACTERS_RE.sub("", text(value))


def write_xlsx(sheet: Sheet, out: IO[bytes]) -> None:
    """The sheet as .xlsx: header frozen, widths from the header and the first rows, text
    columns formatted as text ('@') so what a registrar types there stays text too."""
    rows = iter(sheet.rows)
    sample = [[_clean(v) for v in row] for row in islice(rows, SAMPLE_ROWS)]
    widths, texts = [], []
    for i, header in enumerate(sheet.headers):
        column = [row[i] for row in sample]
        widths.append(min(MAX_WIDTH, max([_width(header), *map(_width, column)]) + 2))
        texts.append(not any(isinstance(v, int | float) for v in column))
    cleaned = chain(sample, ([_clean(v) for v in row] for row in rows))
    xlsx.write(out, sheet.title, sheet.headers, cleaned, widths, texts)


def write_csv(sheet: Sheet, out: IO[bytes]) -> None:
    """The sheet as CSV in UTF-8 with a BOM (what Excel on Chinese Windows opens right)."""
    stream = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(stream)
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow([_csv_cell(v) for v in row])
    stream.flush()
    stream.detach()  # leave `out` open for the caller


def _csv_cell(value: Any) -> Any:
    shown = _clean(value)
    if type(shown) is str and shown[:1] in _FORMULA_FIRST:
        return "'" + shown
    return shown


_FORMULA_FIRST = frozenset(FORMULA_STARTS)  # the import reads the quote back off


WRITERS = {"xlsx": write_xlsx, "csv": write_csv}


def write(fmt: str, sheet: Sheet, out: IO[bytes]) -> None:
    WRITERS[fmt](sheet, out)


_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\s]+')


def filename(sheet: Sheet, fmt: str) -> str:
    """`学生学籍-20260901.xlsx`: the list's title and the day (Beijing time)."""
    return f"{_UNSAFE_NAME.sub('_', sheet.title)}-{china_today():%Y%m%d}.{fmt}"


class BadFormat(ValueError):
    """`?format=` names a format the list is not offered in: a page answers 400 with the
    error page, the API its JSON 400; both name the field."""

    def __init__(self, allowed: Sequence[str] = FORMATS) -> None:
        self.message = f"导出格式（format）须为 {'、'.join(allowed)} 之一。"
        super().__init__(self.message)


def download(fmt: str, sheet: Sheet, user, filters: dict | None = None) -> Response:
    """A list's `?format=` answered: the sheet as an attachment, its name in RFC 5987 form
    (Chinese survives every browser), the download audited (who took which list, in which
    format, with what filters); BadFormat for a format other than FORMATS."""
    if fmt not in FORMATS:
        raise BadFormat()
    out = tempfile.SpooledTemporaryFile(max_size=SPILL_BYTES)
    write(fmt, sheet, out)
    out.seek(0)
    name = filename(sheet, fmt)
    audit(user, "export", None, None, {"list": sheet.title, "format": fmt, **(filters or {})})
    db.session.commit()
    response = send_file(out, mimetype=CONTENT_TYPES[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(name)}"
    )
    return response
