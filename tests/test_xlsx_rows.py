"""The streamed .xlsx reader gives the cells openpyxl wrote: text (shared and inline),
numbers whole or not, dates by their number format, gaps in rows and columns; a damaged
file is refused in Chinese, not with a traceback."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from forms.spreadsheets import UnreadableFile, open_sheet
from forms.xlsx_rows import xlsx_rows


def book_bytes(write_only: bool) -> bytes:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    sheet.append(["姓名", "出生日期", "年级", "学分", "身份证件号"])
    sheet.append(["王小明", datetime(2015, 3, 1), 4, 2.5, "32120220150301011X"])
    sheet.append([])
    sheet.append(["李梅", None, None, 3.0, 3132120201])  # a 学校标识码 typed as a number
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("write_only", [False, True], ids=["shared strings", "inline strings"])
def test_the_cells_come_back_as_written(write_only):
    rows, last = xlsx_rows(io.BytesIO(book_bytes(write_only)))
    got = {n: [v for v in values] for n, values in rows}
    assert got[1] == ["姓名", "出生日期", "年级", "学分", "身份证件号"]
    assert got[2] == ["王小明", datetime(2015, 3, 1), 4, 2.5, "32120220150301011X"]
    assert got[4][0] == "李梅" and got[4][3:] == [3, 3132120201]
    assert got[4][1] in (None, "") and got[4][2] in (None, "")
    assert 3 not in got or not any(got[3])
    if not write_only:
        assert last == 4


def test_the_sheet_reads_as_text_with_sheet_row_numbers():
    sheet = open_sheet(book_bytes(False), "名单.xlsx")
    assert sheet.columns == ["姓名", "出生日期", "年级", "学分", "身份证件号"]
    rows = list(sheet.rows)
    assert [n for n, _ in rows] == [2, 4]  # the blank row 3 keeps its place
    assert rows[0][1]["出生日期"] == "2015-03-01" and rows[0][1]["学分"] == "2.5"
    assert rows[1][1]["身份证件号"] == "3132120201" and rows[1][1]["学分"] == "3"


def test_a_damaged_workbook_is_refused_in_chinese():
    with pytest.raises(UnreadableFile, match="无法读取 XLSX 文件"):
        open_sheet(b"PK\x03\x04 not really a zip", "坏.xlsx")
    good = book_bytes(False)
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) - 40]  # the sheet's XML cut short
            dst.writestr(item, data)
    sheet = open_sheet(damaged.getvalue(), "截断.xlsx")  # the header still reads
    with pytest.raises(UnreadableFile, match="无法读取 XLSX 文件"):
        list(sheet.rows)
