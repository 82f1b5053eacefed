"""Reading a spreadsheet (XLSX, legacy XLS or CSV) or a list of row objects as text, and the
typed reads of one row that name the row and column of every problem.

Reading is streamed: `open_sheet` gives the header and an iterator of rows, so a 100,000-row
file is checked and written chunk by chunk without every row held at once. Checking the rows
of an import is validation: the checks (`student_rows`, `org_rows`, `result_rows`) read
through these, and `webapp/imports.py` writes what they accept.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, NamedTuple

import xlrd

from .parse_errors import located
from .validators import text_problem
from .xlsx_rows import NotAWorkbook, xlsx_rows

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DIGITS = re.compile(r"\d+")
# CSV encodings tried in turn: what Excel saves as "CSV UTF-8", then on Chinese Windows.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class RowError(NamedTuple):
    """One problem in an import file: spreadsheet row (None for the whole file), column as
    the file writes it, message."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"第 {self.row} 行，字段 {self.field}：{self.message}"


@dataclass
class Table:
    """A sheet as text: column names (see `header_name`) and (sheet row, values) pairs."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class Sheet:
    """A sheet being read: its column names and an iterator of (sheet row, values)."""

    columns: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    total: int | None = None  # data rows, as far as the file says before it is read


class UnreadableFile(ValueError):
    """The file is not a sheet we can read; the message says why (raised while reading)."""


def header_name(cell: str) -> str:
    """A header cell as a column name: spaces around it and a trailing * (the template's
    mark of a required column) dropped; English names lower-cased, Chinese kept as written."""
    return cell.strip().rstrip("*＊").strip().lower()


def read_table(data: bytes, filename: str) -> Table:
    """The whole first sheet at once, for short lists (a registration's, a form's)."""
    sheet = open_sheet(data, filename)
    return Table(columns=sheet.columns, rows=list(sheet.rows))


def open_sheet(data: bytes, filename: str) -> Sheet:
    """Open the first sheet of an XLSX or XLS file or a CSV (UTF-8 with or without BOM, GBK
    or GB18030): the header now, the rows as they are read.

    Blank rows are skipped but keep their place in the numbering, so row numbers are the
    ones the user sees in Excel. A bad cell further down raises UnreadableFile when reached.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records, last = _xlsx_records(data)
    elif suffix == ".xls":
        records, last = _xls_records(data)
    elif suffix == ".csv":
        records, last = _csv_records(data), _csv_lines(data)
    else:
        raise UnreadableFile(f"无法识别文件“{filename}”的类型：只接受 .xlsx、.xls 或 .csv 文件。")
    for number, raw in records:
        values = [_text(v) for v in raw]
        _check_cells(values, None, number)
        if any(values):
            header = [header_name(v) for v in values]
            _check_header(header, number)
            total = max(last - number, 0) if last is not None else None
            return Sheet(header, _rows(records, header), total)
    raise UnreadableFile(f"文件“{filename}”是空的：第 1 行应为列名。")


def _csv_lines(data: bytes) -> int:
    """A CSV's last row number, as far as its line breaks tell (for a progress bar)."""
    return data.count(b"\n") + (not data.endswith(b"\n"))


def _rows(
    records: Iterator[tuple[int, list[Any]]], header: list[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    width = len(header)
    for number, raw in records:
        values = [_text(v) for v in raw]
        _check_cells(values, header, number)
        if any(values):
            yield number, dict(zip(header, values + [""] * (width - len(values)), strict=False))


def _check_cells(values: list[str], header: list[str] | None, number: int) -> None:
    """No cell may carry what a text column refuses (NUL, a lone surrogate)."""
    if not text_problem("".join(values)):  # one look at the row, then cell by cell
        return
    for index, value in enumerate(values):
        problem = text_problem(value)
        if problem:
            column = header[index] if header and index < len(header) else f"第 {index + 1} 列"
            raise UnreadableFile(f"第 {number} 行，字段 {column}：{problem}")


def records_table(records: Iterable[dict[str, Any]], columns: Iterable[str] = ()) -> Table:
    """Rows given as objects (the JSON API, a list kept in an instance) as a Table.

    Rows are numbered as the user sees them: by the sheet's row number when the list came
    from an uploaded sheet (`SHEET_ROW`, see `numbered`), else 1..n. Keys are lower-cased
    and values become the text a sheet cell would give. Every one of `columns` counts as
    present, so a key a row leaves out reads as an empty cell of that row ("不能为空"), not
    as a missing column.
    """
    header = list(columns)
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in numbered(records):
        values = {
            str(k).strip().lower(): _record_text(v) for k, v in record.items() if k != SHEET_ROW
        }
        header += [k for k in values if k not in header]
        rows.append((number, values))
    return Table(columns=header, rows=rows)


# The key an uploaded sheet's rows carry their sheet row number under, so a list kept in an
# instance names its rows as the file does (the header is row 1).
SHEET_ROW = "_row"


def numbered(records: Iterable[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(row number as the user sees it, row): the sheet's, else the position from 1."""
    out = []
    for position, record in enumerate(records, start=1):
        number = record.get(SHEET_ROW) if isinstance(record, dict) else None
        out.append((number if isinstance(number, int) and number > 0 else position, record))
    return out


def _record_text(value: Any) -> str:
    if isinstance(value, bool):  # JSON true / false, e.g. a flag column
        return "1" if value else ""
    return _text(value)


def _check_header(header: list[str], number: int) -> None:
    while header and not header[-1]:
        header.pop()
    if "" in header:
        raise UnreadableFile(f"第 {number} 行（列名行）第 {header.index('') + 1} 列没有列名。")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise UnreadableFile(f"第 {number} 行（列名行）中列名重复：{'、'.join(repeated)}。")


def _csv_records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    encoding = _csv_encoding(data)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    number = 0
    try:
        for row in csv.reader(text):
            number += 1
            yield number, [_uninert(v) for v in row]
    except csv.Error as exc:  # a cell past csv.field_size_limit(), or a broken quote
        raise UnreadableFile(f"CSV 文件无法读取，{located(exc, line=number + 1)}。") from exc


def _uninert(value: str) -> str:
    """A CSV cell our export made inert ('=…, '+86…: a quote before a formula's first
    character, so Excel never runs it) reads back as the text it was."""
    if value[:1] == "'" and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


# What Excel reads as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_encoding(data: bytes) -> str:
    """The first of CSV_ENCODINGS the whole file decodes in (checked in pieces, not kept);
    if none, the refusal names where UTF-8 first fails."""
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), 1 << 20):
                decoder.decode(data[start : start + (1 << 20)])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    try:
        data.decode(CSV_ENCODINGS[0])  # again, whole, for the place (only on refusal)
        where = ""
    except UnicodeDecodeError as exc:
        where = f"；{located(exc)}"
    raise UnreadableFile(
        f"CSV 文件的编码无法识别（既不是 UTF-8，也不是 GBK/GB18030{where}）："
        "请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”后再导入。"
    )


def _xlsx_records(data: bytes) -> tuple[Iterator[tuple[int, list[Any]]], int | None]:
    try:
        rows, last = xlsx_rows(io.BytesIO(data))
    except NotAWorkbook as exc:
        raise UnreadableFile(_bad_xlsx(exc)) from exc
    return _unless_damaged(rows), last


def _unless_damaged(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from rows
    except NotAWorkbook as exc:
        raise UnreadableFile(_bad_xlsx(exc)) from exc


def _bad_xlsx(exc: NotAWorkbook) -> str:
    return f"无法读取 XLSX 文件：文件已损坏或不是 Excel 工作簿（{exc}）。"


def _xls_records(data: bytes) -> tuple[Iterator[tuple[int, list[Any]]], int]:
    """Excel 97 (.xls, the national template's own format): dates as ISO, whole numbers
    without ".0" (see `_text`)."""
    try:
        book = xlrd.open_workbook(file_contents=data)
        sheet = book.sheet_by_index(0)
    except (xlrd.XLRDError, OSError, ValueError, IndexError, AssertionError) as exc:
        raise UnreadableFile("无法读取 XLS 文件：文件已损坏或不是 Excel 97-2003 工作簿。") from exc
    rows = (
        (index + 1, [_xls_cell(cell, book.datemode) for cell in sheet.row(index)])
        for index in range(sheet.nrows)
    )
    return rows, sheet.nrows


def _xls_cell(cell: Any, datemode: int) -> Any:
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return int(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return ""
    return cell.value


def _text(value: Any) -> str:
    """A cell as the text the user typed: 3212.0 → "3212", a date cell → "2015-03-01"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class SheetRow:
    """Typed reads of one row's cells by key; each failed read adds an error naming the row
    and the column by its header as the file writes it (`names`: key → header).

    A key in `failed` already has its problem (a format the layout refused): reads of it
    give None without a second message.
    """

    def __init__(
        self,
        number: int,
        values: dict[str, str],
        errors: list[RowError],
        names: dict[str, str] | None = None,
        failed: set[str] | frozenset[str] = frozenset(),
    ):
        self.number = number
        self.values = values
        self.errors = errors
        self.names = names or {}
        self.failed = failed

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, self.names.get(column, column), message))

    def column(self, key: str) -> str:
        """The header this row's file writes for `key`."""
        return self.names.get(key, key)

    def text(self, column: str, max_len: int, required: bool = False) -> str | None:
        value = "" if column in self.failed else self.values.get(column, "")
        if not value:
            if required and column not in self.failed:
                self.error(column, "不能为空。")
            return None
        if len(value) > max_len:
            self.error(column, f"不能超过 {max_len} 个字符。")
            return None
        return value

    def choice(self, column: str, options: Iterable[str], required: bool = True) -> str | None:
        value = "" if column in self.failed else self.values.get(column, "")
        if not value:
            if required and column not in self.failed:
                self.error(column, "不能为空。")
            return None
        if value not in options:
            self.error(column, f"应为 {'、'.join(options)} 之一，实为“{value}”。")
            return None
        return value

    def integer(self, column: str, low: int, high: int, required: bool = True) -> int | None:
        value = "" if column in self.failed else self.values.get(column, "")
        if not value:
            if required and column not in self.failed:
                self.error(column, "不能为空。")
            return None
        if not DIGITS.fullmatch(value):
            self.error(column, f"应为整数，实为“{value}”。")
            return None
        if not low <= int(value) <= high:
            self.error(column, f"应在 {low} 到 {high} 之间，实为 {int(value)}。")
            return None
        return int(value)

    def day(self, column: str) -> date | None:
        value = "" if column in self.failed else self.values.get(column, "")
        if not value:
            if column not in self.failed:
                self.error(column, "不能为空。")
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.error(column, f"日期应为 YYYY-MM-DD 格式的有效日期，实为“{value}”。")
            return None


def missing_columns(table: Table, required: Iterable[str]) -> list[RowError]:
    return [RowError(1, c, "缺少此列。") for c in required if c not in table.columns]
