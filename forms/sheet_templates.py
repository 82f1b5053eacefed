"""The blank templates a registrar downloads, one per layout, built from the one table of
columns (`forms.student_fields`): headers in the layout's order, required headers in red,
a drop-down on every coded column and a sheet 代码表 the drop-downs read from.

A drop-down's list lives on 代码表 and is referenced by range: Excel refuses an inline list
longer than 255 characters, and 民族 alone is longer.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from webapp.models.codes import ETHNICITIES

from .student_fields import BY_KEY, NATIONAL_COLUMNS, NATIONAL_EXTRA, XUEJI_COLUMNS, XUEJI_REQUIRED
from .student_rows import GENDERS

LAYOUTS = ("national", "xueji")
CODE_SHEET = "代码表"
FILLED_ROWS = 5000  # rows a drop-down covers below the header
RED = Font(color="FFFF0000", bold=True)
BOLD = Font(bold=True)


def template_workbook(layout: str) -> bytes:
    """The .xlsx template of `layout` (national | xueji)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "学生信息"
    codes = book.create_sheet(CODE_SHEET)
    if layout == "national":
        columns = [(c.header, c.required, c.codes) for c in NATIONAL_COLUMNS]
        columns += [(header, False, ()) for header in NATIONAL_EXTRA]
    else:
        columns = [(key, key in XUEJI_REQUIRED, _xueji_codes(key)) for key in XUEJI_COLUMNS]
    ranges = _code_sheet(codes, [c for _, _, c in columns if c])
    for index, (header, required, options) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = RED if required else BOLD
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(10, len(header) * 2 + 2)
        if options:
            check = DataValidation(
                type="list",
                formula1=ranges[options],
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="无效的值",
                error=f"“{header}”请从下拉列表中选择（见“{CODE_SHEET}”）。",
            )
            check.add(f"{letter}2:{letter}{FILLED_ROWS + 1}")
            sheet.add_data_validation(check)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xueji_codes(key: str) -> tuple[str, ...]:
    if key == "gender":
        return GENDERS
    column = BY_KEY.get(key)
    return column.codes if column else ()


def _code_sheet(sheet, lists: list[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """Each distinct code list in a column of its own (民族 with its code beside it); the
    range each drop-down refers to, by list."""
    titles = {tuple(ETHNICITIES): "民族"}
    ranges: dict[tuple[str, ...], str] = {}
    column = 1
    for options in lists:
        if options in ranges:
            continue
        letter = get_column_letter(column)
        sheet.cell(row=1, column=column, value=titles.get(options, _title(options))).font = BOLD
        for row, value in enumerate(options, start=2):
            sheet.cell(row=row, column=column, value=value)
        ranges[options] = f"{quote_sheetname(CODE_SHEET)}!${letter}$2:${letter}${len(options) + 1}"
        sheet.column_dimensions[letter].width = 16
        if options == tuple(ETHNICITIES):
            column += 1
            sheet.cell(row=1, column=column, value="民族代码").font = BOLD
            for row, value in enumerate(options, start=2):
                sheet.cell(row=row, column=column, value=ETHNICITIES[value])
        column += 1
    return ranges


def _title(options: tuple[str, ...]) -> str:
    """The header of a code list: the first column that uses it, by the template's name."""
    for column in NATIONAL_COLUMNS:
        if column.codes == options:
            return column.header
    return "性别" if options in (GENDERS, ("男", "女")) else "代码"
