"""Reading a spreadsheet (CSV or XLSX) or a list of row objects as text, and the typed reads
of one row that name the row and column of every problem.

Checking the rows of an import is validation: the checks (`student_rows`, `org_rows`,
`result_rows`) read through these, and `webapp/imports.py` writes what they accept.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, NamedTuple

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .validators import text_problem

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DIGITS = re.compile(r"\d+")


class RowError(NamedTuple):
    """One problem in an import file: spreadsheet row (None for the whole file), column, message."""

    row: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"第 {self.row} 行，字段 {self.field}：{self.message}"


@dataclass
class Table:
    """A sheet as text: lower-cased column names and (spreadsheet row number, values) pairs."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


class UnreadableFile(ValueError):
    """The file is not a CSV (UTF-8) or XLSX sheet we can read; the message says why."""


def read_table(data: bytes, filename: str) -> Table:
    """Read the first sheet of an XLSX file or a UTF-8 CSV (with or without BOM).

    Blank rows are skipped but keep their place in the numbering, so row numbers are the
    ones the user sees in Excel.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(data)
    elif suffix == ".csv":
        records = _csv_records(data)
    elif suffix == ".xls":
        raise UnreadableFile("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或“CSV UTF-8”后再导入。")
    else:
        raise UnreadableFile(f"无法识别文件“{filename}”的类型：只接受 .csv 或 .xlsx 文件。")
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in records:
        values = [_text(v) for v in raw]
        _check_cells(values, header, number)
        if not any(values):
            continue
        if header is None:
            header = [v.lower() for v in values]
            _check_header(header, number)
            continue
        rows.append(
            (number, dict(zip(header, values + [""] * (len(header) - len(values)), strict=False)))
        )
    if header is None:
        raise UnreadableFile(f"文件“{filename}”是空的：第 1 行应为列名。")
    return Table(columns=header, rows=rows)


def _check_cells(values: list[str], header: list[str] | None, number: int) -> None:
    """No cell may carry what a text column refuses (NUL, a lone surrogate)."""
    for index, value in enumerate(values):
        problem = text_problem(value)
        if problem:
            column = header[index] if header and index < len(header) else f"第 {index + 1} 列"
            raise UnreadableFile(f"第 {number} 行，字段 {column}：{problem}")


def records_table(records: Iterable[dict[str, Any]], columns: Iterable[str] = ()) -> Table:
    """Rows given as objects (the JSON API, a list kept in an instance) as a Table.

    Rows are numbered 1..n as the user sees them; keys are lower-cased and values become
    the text a sheet cell would give. Every one of `columns` counts as present, so a key a
    row leaves out reads as an empty cell of that row ("不能为空"), not as a missing column.
    """
    header = list(columns)
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records, start=1):
        values = {str(k).strip().lower(): _record_text(v) for k, v in record.items()}
        header += [k for k in values if k not in header]
        rows.append((number, values))
    return Table(columns=header, rows=rows)


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


def _csv_records(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            "CSV 文件不是 UTF-8 编码：请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”后再导入。"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[Any]]] = []
    try:
        for row in reader:
            rows.append((len(rows) + 1, row))
    except csv.Error as exc:  # a cell past csv.field_size_limit(), or a broken quote
        limit = csv.field_size_limit()
        raise UnreadableFile(
            f"CSV 文件第 {len(rows) + 1} 行无法读取：单元格不能超过 {limit} 个字符"
            "（或引号未配对）。"
        ) from exc
    return rows


def _xlsx_records(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    try:
        sheet = load_workbook(io.BytesIO(data), data_only=True).worksheets[0]
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile("无法读取 XLSX 文件：文件已损坏或不是 Excel 工作簿。") from exc
    return enumerate(sheet.iter_rows(values_only=True), start=sheet.min_row)


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
    """Typed reads of one row's cells; each failed read adds an error naming row and column."""

    def __init__(self, number: int, values: dict[str, str], errors: list[RowError]):
        self.number = number
        self.values = values
        self.errors = errors

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def text(self, column: str, max_len: int, required: bool = False) -> str | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.error(column, "不能为空。")
            return None
        if len(value) > max_len:
            self.error(column, f"不能超过 {max_len} 个字符。")
            return None
        return value

    def choice(self, column: str, options: Iterable[str], required: bool = True) -> str | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.error(column, "不能为空。")
            return None
        if value not in options:
            self.error(column, f"应为 {'、'.join(options)} 之一，实为“{value}”。")
            return None
        return value

    def integer(self, column: str, low: int, high: int, required: bool = True) -> int | None:
        value = self.values.get(column, "")
        if not value:
            if required:
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
        value = self.values.get(column, "")
        if not value:
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
