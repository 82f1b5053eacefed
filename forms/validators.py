"""Field checks shared by forms and imports, with Chinese messages."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from marshmallow import ValidationError, fields
from stdnum.cn import ric


def check_id_number(value: str, birth_date: date | None = None, gender: str | None = None) -> str:
    """A resident ID number valid under GB 11643 (check digit, birth date); returns it compact.

    When `birth_date` or `gender` is given, the number must agree with them. The area code
    is looked up once per area and year (`_area_known`): an import checks 100,000 numbers.
    """
    number = (value or "").replace(" ", "").upper()
    if not _ID_SHAPE.fullmatch(number):
        number = ric.compact(value or "").upper()  # full-width digits, other spaces
    if not _ID_SHAPE.fullmatch(number):
        raise ValidationError("身份证号格式错误：应为 18 位。")
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError("身份证号校验位错误（GB 11643）。")
    try:
        born = ric.get_birth_date(number)
    except ric.ValidationError as exc:
        raise ValidationError("身份证号中的出生日期无效。") from exc
    if not _area_known(number[:6], born.year):
        raise ValidationError(AREA_MESSAGE)
    if birth_date is not None and born != birth_date:
        raise ValidationError("身份证号中的出生日期与出生日期字段不一致。")
    if gender is not None and id_gender(number) != gender:
        raise ValidationError("身份证号中的性别码与性别字段不一致。")
    return number


_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


@lru_cache(maxsize=8192)
def _area_known(area: str, year: int) -> bool:
    """The area code was a county's in that year (the library's table, with its dates)."""
    try:
        ric.get_birth_place(f"{area}{year:04d}01010000")
    except (ric.ValidationError, KeyError, IndexError, ValueError):  # the table has gaps
        return False
    return True


AREA_MESSAGE = "身份证号前 6 位不是有效的行政区划代码（GB 11643）。"


def is_valid_id_number(value: str) -> bool:
    """`ric.is_valid` that never raises (it lets a KeyError through for some area codes)."""
    try:
        check_id_number(value)
    except ValidationError:
        return False
    return True


def id_gender(number: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "M" if int(number[16]) % 2 else "F"


def build_id_number(area_code: str, birth_date: date, sequence: int, gender: str) -> str:
    """A valid ID number for demo data and tests: area + birth date + order code + check digit."""
    order = sequence * 2 + (1 if gender == "M" else 0)
    body = f"{area_code[:6]}{birth_date:%Y%m%d}{order % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """What a text column refuses in `value` (NUL, a lone surrogate), or None."""
    if "\x00" in value:
        return "不能含有空字符（NUL）。"
    if _SURROGATE.search(value):
        return "含有无效的 Unicode 字符（孤立的代理项）。"
    return None


DATE_ERRORS = {"invalid": "日期格式应为 YYYY-MM-DD。"}


def iso_dates(data: dict, *names: str) -> dict:
    """Dates as ISO text (`2026-09-01`), so the engine state stays plain JSON."""
    for name in names:
        if data.get(name) is not None:
            data[name] = data[name].isoformat()
    return data


def required_date(label: str) -> fields.Date:
    return fields.Date(
        required=True,
        error_messages={"required": f"请填写{label}。", "invalid": f"{label}格式应为 YYYY-MM-DD。"},
    )
