"""Checking the rows of a results import (`xueji import results`): levels and credits."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from webapp.models import RESULT_KINDS

from .spreadsheets import RowError, SheetRow, Table, missing_columns
from .student_rows import active_students

RESULT_COLUMNS = ("id_number", "term", "subject", "kind", "result", "credits")
RESULT_REQUIRED = ("id_number", "term", "subject", "kind", "result")
RESULTS = ("pass", "fail")
_CREDITS = re.compile(r"\d{1,3}(\.\d)?")


def check_results(table: Table) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Check every result row: a student holding a status, a known kind, pass or fail."""
    errors = missing_columns(table, RESULT_REQUIRED)
    if errors:
        return [], errors
    active = active_students(v.get("id_number", "").upper() for _, v in table.rows)
    checked: list[dict[str, Any]] = []
    for number, values in table.rows:
        row = SheetRow(number, values, errors)
        before = len(errors)
        id_number = row.text("id_number", 18, required=True)
        student = active.get(id_number.upper()) if id_number else None
        if id_number and student is None:
            row.error("id_number", f"身份证号“{id_number}”没有在籍或休学的学籍。")
        term = row.text("term", 32, required=True)
        subject = row.text("subject", 64, required=True)
        kind = row.choice("kind", RESULT_KINDS)
        result = row.choice("result", RESULTS)
        credits = values.get("credits", "")
        if credits and not _CREDITS.fullmatch(credits):
            row.error("credits", f"学分应为不超过一位小数的非负数，实为“{credits}”。")
        if len(errors) == before:
            checked.append(
                {
                    "student": student,
                    "term": term,
                    "subject": subject,
                    "kind": kind,
                    "result": result,
                    "credits": Decimal(credits) if credits else None,
                }
            )
    return checked, errors
