"""The rows of an .xlsx file's first sheet, streamed: the sheet's XML is parsed as it is
read from the zip by expat, straight into rows, so a 100,000-row file is never held as
cells in memory. openpyxl's read-only mode streams too, but builds a cell object for each
of the national template's 63 columns: on this machine 20,000 rows took it 27 s, this 7 s.

Cell values come out as openpyxl gives them: text, int or float, datetime for a number in
a date format, bool. Only the shared strings (one copy of each distinct text) are kept.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from posixpath import join, normpath
from typing import IO, Any
from xml.parsers import expat

from lxml import etree

from .parse_errors import located

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Built-in number formats that are dates (ECMA-376 §18.8.30).
_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)


class NotAWorkbook(ValueError):
    """The file is not an .xlsx workbook we can read; the message says where and why."""


def _why(exc: Exception) -> str:
    """Why, in Chinese; a place in the workbook's own XML is said to be inside it, not to be
    taken for a sheet row."""
    if isinstance(exc, NotAWorkbook):
        return str(exc)
    if isinstance(exc, KeyError):  # zipfile: no such member
        return "缺少工作簿的组成部分"
    if isinstance(exc, etree.XMLSyntaxError | expat.ExpatError):
        return f"工作簿内部数据{located(exc)}"
    return located(exc)


def xlsx_rows(file: IO[bytes]) -> tuple[Iterator[tuple[int, list[Any]]], int | None]:
    """(sheet row number, cell values) of the first sheet, and the last row number the
    sheet declares (for a progress bar; None if it declares none)."""
    try:
        archive = zipfile.ZipFile(file)
        sheet_path, epoch = _first_sheet(archive)
        strings = _shared_strings(archive)
        dates = _date_styles(archive)
        last = _declared_last_row(archive, sheet_path)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, OSError, ValueError) as exc:
        raise NotAWorkbook(_why(exc)) from exc
    return _rows(archive, sheet_path, strings, dates, epoch), last


def _xml(archive: zipfile.ZipFile, path: str):
    return etree.parse(archive.open(path)).getroot()


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, datetime]:
    book = _xml(archive, "xl/workbook.xml")
    sheet = book.find(f"{_MAIN}sheets/{_MAIN}sheet")
    if sheet is None:
        raise NotAWorkbook("工作簿中没有工作表")
    rel_id = sheet.get(f"{_REL}id")
    rels = _xml(archive, "xl/_rels/workbook.xml.rels")
    target = next(
        r.get("Target") for r in rels.iter(f"{_PACKAGE_REL}Relationship") if r.get("Id") == rel_id
    )
    path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
    props = book.find(f"{_MAIN}workbookPr")
    date1904 = props is not None and props.get("date1904") in ("1", "true")
    return path, _EPOCH_1904 if date1904 else _EPOCH_1900


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    path = "xl/sharedStrings.xml"
    if path not in archive.namelist():
        return []
    out: list[str] = []
    for _, item in etree.iterparse(archive.open(path), tag=f"{_MAIN}si"):
        out.append(_text_of(item))
        item.clear()
    return out


def _text_of(element) -> str:
    """The text of a string item or an inline string: its <t>, or its runs' <t>s (not the
    phonetic <rPh> guides)."""
    return "".join(
        t.text or "" for t in element.iter(f"{_MAIN}t") if t.getparent().tag != f"{_MAIN}rPh"
    )


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """The cell style indexes whose number format is a date."""
    if "xl/styles.xml" not in archive.namelist():
        return set()
    styles = _xml(archive, "xl/styles.xml")
    custom = {
        int(f.get("numFmtId")): f.get("formatCode") or "" for f in styles.iter(f"{_MAIN}numFmt")
    }
    dated = set()
    xfs = styles.find(f"{_MAIN}cellXfs")
    for index, xf in enumerate(xfs if xfs is not None else ()):
        fmt = int(xf.get("numFmtId") or 0)
        if fmt in _DATE_FORMATS or (fmt in custom and _is_date_code(custom[fmt])):
            dated.add(index)
    return dated


def _is_date_code(code: str) -> bool:
    return bool(re.search(r"[dmyDMY]", _QUOTED.sub("", code)))


def _declared_last_row(archive: zipfile.ZipFile, path: str) -> int | None:
    """The sheet's <dimension ref="A1:BK100001">, read from its first few elements."""
    for _, element in etree.iterparse(archive.open(path), events=("start",)):
        if element.tag == f"{_MAIN}dimension":
            match = re.search(r"(\d+)$", element.get("ref") or "")
            return int(match.group(1)) if match else None
        if element.tag == f"{_MAIN}sheetData":
            break
    return None


def _rows(archive, path, strings, dates, epoch) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from _parsed_rows(archive, path, strings, dates, epoch)
    except (
        zipfile.BadZipFile,
        zlib.error,
        expat.ExpatError,
        OSError,
        ValueError,
        IndexError,
    ) as exc:
        raise NotAWorkbook(_why(exc)) from exc  # damage further down the sheet


def _parsed_rows(archive, path, strings, dates, epoch) -> Iterator[tuple[int, list[Any]]]:
    """Expat's callbacks straight into rows: no element tree is built for the cells."""
    sheet = _SheetReader(strings, dates, epoch)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = sheet.start
    parser.EndElementHandler = sheet.end
    parser.CharacterDataHandler = sheet.characters
    stream = archive.open(path)
    while chunk := stream.read(1 << 20):
        parser.Parse(chunk, False)
        yield from sheet.take()
    parser.Parse(b"", True)
    yield from sheet.take()


class _SheetReader:
    """The state of one pass over <sheetData>: the row being read and the rows finished."""

    def __init__(self, strings: list[str], dates: set[int], epoch: datetime):
        self.strings, self.dates, self.epoch = strings, dates, epoch
        self.columns: dict[str, int] = {}
        self.done: list[tuple[int, list[Any]]] = []
        self.number = 0
        self.values: list[Any] = []
        self.kind, self.style, self.text = "n", None, []
        self.reading = self.phonetic = False

    def take(self) -> list[tuple[int, list[Any]]]:
        done, self.done = self.done, []
        return done

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == _C:
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                column = self.columns.get(letters)
                if column is None:
                    column = self.columns[letters] = _column_index(letters)
                if column > len(self.values):
                    self.values.extend([None] * (column - len(self.values)))
            self.kind, self.style, self.text = attrs.get("t", "n"), attrs.get("s"), []
        elif name == _V or name == _T:
            self.reading = not self.phonetic
        elif name == _ROW:
            self.number = int(attrs.get("r") or self.number + 1)
            self.values = []
        elif name == _PHONETIC:  # a phonetic guide: not the cell's text
            self.phonetic = True

    def characters(self, data: str) -> None:
        if self.reading:
            self.text.append(data)

    def end(self, name: str) -> None:
        if name == _V or name == _T:
            self.reading = False
        elif name == _C:
            self.values.append(self._value("".join(self.text) if self.text else None))
        elif name == _ROW:
            self.done.append((self.number, self.values))
        elif name == _PHONETIC:
            self.phonetic = False

    def _value(self, raw: str | None) -> Any:
        kind = self.kind
        if kind == "inlineStr":
            return raw or ""
        if raw is None:
            return None
        if kind == "s":
            return self.strings[int(raw)]
        if kind in ("str", "e"):
            return raw if kind == "str" else None
        if kind == "b":
            return raw == "1"
        if self.dates and int(self.style or 0) in self.dates:
            return self.epoch + timedelta(days=float(raw))
        if "." in raw or "E" in raw or "e" in raw:
            number = float(raw)
            return int(number) if number.is_integer() else number
        return int(raw)  # all its digits: an ID number typed as a number keeps them


# Expat names an element "namespace tag".
_C, _V, _T, _ROW, _PHONETIC = (f"{_MAIN[1:-1]} {tag}" for tag in ("c", "v", "t", "row", "rPh"))


def _column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - 64)
    return index - 1
