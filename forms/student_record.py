"""The national template's fields of a student row (民族, 籍贯, 证件类型, 户口, 班号, 地址,
家庭成员 …), read from the keyed values of either layout into the record's attributes.

Coded columns take the template's texts (`webapp.models.codes`) in both layouts; the
national layout's rows were converted and code-checked by `student_fields` already.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError

from webapp.models.codes import RESIDENT_ID, YES_NO

from .spreadsheets import DIGITS, SheetRow
from .student_fields import BY_KEY, MEMBER_FIELDS, MEMBERS
from .student_layouts import Layout
from .validators import check_id_number

# Record attributes kept as text, with the column's length.
TEXT_FIELDS = {
    "ethnicity": 32,
    "native_place": 64,
    "nationality": 32,
    "id_type": 16,
    "overseas": 8,
    "health": 16,
    "household_type": 16,
    "admission_mode": 16,
    "study_mode": 8,
    "address_current": 128,
    "address_mail": 128,
    "address_home": 128,
    "phone": 32,
}
MEMBER_LENGTHS = {"name": 64, "employer": 64, "phone": 32, "address": 128, "id_number": 18}
_CLASS_NUMBER = re.compile(r"\d{4}[123]\d{2}")


def record_fields(row: SheetRow, layout: Layout) -> dict[str, Any]:
    """The row's template fields as Student attributes (members and national_extra as JSON)."""
    out: dict[str, Any] = {key: _text(row, key, length) for key, length in TEXT_FIELDS.items()}
    out["birthplace_code"] = _division(row, "birthplace_code")
    class_number = row.text("class_number", 7)
    if class_number and not _CLASS_NUMBER.fullmatch(class_number):
        row.error(
            "class_number", f"班号应为 7 位数字（入学年份 + 学段 + 班级），实为“{class_number}”。"
        )
        class_number = None
    out["class_number"] = class_number
    out["entry_month"] = row.integer("entry_month", 1, 12, required=False)
    members = [m for n in range(1, MEMBERS + 1) if (m := _member(row, n))]
    out["members"] = members or None
    extra = {h: row.values[h] for h in layout.extra if row.values.get(h)}
    out["national_extra"] = extra or None
    return out


def _text(row: SheetRow, key: str, length: int) -> str | None:
    value = row.text(key, length)
    column = BY_KEY.get(key)
    if value and column is not None and column.codes and value not in column.codes:
        row.error(key, _code_message(column.codes, value))
        return None
    return value


def _code_message(codes: tuple[str, ...], value: str) -> str:
    shown = (
        f"代码表中的值（如 {'、'.join(codes[:3])}）"
        if len(codes) > 8
        else "、".join(codes) + " 之一"
    )
    return f"应为{shown}，实为“{value}”。"


def _division(row: SheetRow, key: str) -> str | None:
    """A division code: 12 digits in the national layout (checked there), 6–12 here."""
    code = row.text(key, 12)
    if code and not (DIGITS.fullmatch(code) and len(code) >= 6):
        row.error(key, f"行政区划代码应为 6–12 位数字，实为“{code}”。")
        return None
    return code


def _member(row: SheetRow, n: int) -> dict[str, Any] | None:
    """Family member n ({name, relation, …, guardian}), None when the row names none."""
    prefix = f"member{n}_"
    if not any(row.values.get(prefix + key) for key, _, _ in MEMBER_FIELDS):
        return None
    member: dict[str, Any] = {}
    for key, _, codes in MEMBER_FIELDS:
        column = prefix + key
        if key == "guardian":
            flag = row.values.get(column, "")
            if flag and flag not in YES_NO and column not in row.failed:
                row.error(column, f"应为 是、否 之一，实为“{flag}”。")
            member[key] = {"是": True, "否": False}.get(flag)
        elif key == "household_code":
            member[key] = _division(row, column)
        elif codes:
            value = row.text(column, 32)
            if value and value not in codes:
                row.error(column, _code_message(codes, value))
                value = None
            member[key] = value
        else:
            member[key] = row.text(column, MEMBER_LENGTHS.get(key, 64))
    member["id_number"] = _member_id(row, prefix, member)
    return member


def _member_id(row: SheetRow, prefix: str, member: dict[str, Any]) -> str | None:
    number = member.get("id_number")
    id_type = row.values.get(prefix + "id_type") or RESIDENT_ID
    if not number or prefix + "id_type" in row.failed or id_type != RESIDENT_ID:
        return number.upper() if number else None
    try:
        return check_id_number(number)
    except ValidationError as exc:
        row.error(prefix + "id_number", " ".join(exc.messages))
        return None
