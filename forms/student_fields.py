"""The student record's columns in the two spreadsheet layouts: this platform's (`xueji`,
English keys, ISO dates) and the national template's (学生信息导入模板, Chinese headers and
its value formats, 001 学生信息模板录入指南). One table says both names of every field, so
the import, the export and the template downloads cannot drift apart.

`national_to_keys` turns a row of the national layout into the keyed values the checks read
(`forms/student_rows.py`); `record_to_national` writes a record back in that layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from webapp.models.codes import (
    ADMISSION_MODES,
    ETHNICITIES,
    HEALTH,
    HOUSEHOLD_TYPES,
    ID_TYPES,
    OVERSEAS,
    RELATIONS,
    STUDY_MODES,
    YES_NO,
)
from webapp.models.vocabulary import STAGE_LABELS


@dataclass(frozen=True)
class Column:
    key: str  # the xueji layout's column name; a record attribute unless a member's
    header: str  # the national template's header
    required: bool = False  # red in the national template
    codes: tuple[str, ...] = ()  # a coded column: one of these texts


MEMBER_FIELDS = (
    ("name", "姓名", ()),
    ("relation", "关系", RELATIONS),
    ("id_type", "身份证件类型", ID_TYPES),
    ("id_number", "身份证件号", ()),
    ("ethnicity", "民族", tuple(ETHNICITIES)),
    ("employer", "工作单位", ()),
    ("phone", "联系电话", ()),
    ("guardian", "是否监护人", YES_NO),
    ("household_code", "户口所在地行政区划", ()),
    ("address", "现住址", ()),
)
MEMBERS = 2


def _member_columns(n: int) -> tuple[Column, ...]:
    return tuple(
        Column(
            f"member{n}_{key}", f"成员{n}{header}", n == 1 and key in ("name", "relation"), codes
        )
        for key, header, codes in MEMBER_FIELDS
    )


# The national template's columns in its order. `key` "school_code" is found by the
# school's 10-digit 学校标识码; "grade", "entry_year" and "class_name" come from 年级,
# 入学年月 and 班号 in the template's own formats.
NATIONAL_COLUMNS: tuple[Column, ...] = (
    Column("school_code", "学校标识码", True),
    Column("name", "姓名", True),
    Column("gender", "性别", True, ("男", "女")),
    Column("birth_date", "出生日期", True),
    Column("birthplace_code", "出生地行政区划代码", True),
    Column("native_place", "籍贯"),
    Column("ethnicity", "民族", True, tuple(ETHNICITIES)),
    Column("nationality", "国籍/地区", True),
    Column("id_type", "身份证件类型", True, ID_TYPES),
    Column("overseas", "港澳台侨外", True, OVERSEAS),
    Column("health", "健康状况", True, HEALTH),
    Column("id_number", "身份证件号", True),
    Column("household_code", "户口所在地行政区划", True),
    Column("household_type", "户口性质", True, HOUSEHOLD_TYPES),
    Column("grade", "年级", True),
    Column("class_number", "班号", True),
    Column("class_name", "班级名称"),
    Column("entry_month", "入学年月", True),
    Column("admission_mode", "入学方式", True, ADMISSION_MODES),
    Column("study_mode", "就读方式", True, STUDY_MODES),
    Column("address_current", "现住址", True),
    Column("address_mail", "通信地址"),
    Column("address_home", "家庭住址"),
    Column("phone", "联系电话"),
    *_member_columns(1),
    *_member_columns(2),
)
# The template's columns this platform keeps as written, by header (national_extra).
NATIONAL_EXTRA = (
    "政治面貌",
    "姓名拼音",
    "曾用名",
    "特长",
    "学籍辅号",
    "班内学号",
    "邮政编码",
    "电子信箱",
    "是否独生子女",
    "是否受过学前教育",
    "是否留守儿童",
    "是否进城务工人员随迁子女",
    "是否孤儿",
    "是否烈士或优抚子女",
    "随班就读",
    "残疾类型",
    "是否由政府购买学位",
    "是否需要申请资助",
    "是否享受一补",
)
NATIONAL_HEADERS = tuple(c.header for c in NATIONAL_COLUMNS) + NATIONAL_EXTRA
NATIONAL_REQUIRED = tuple(c.header for c in NATIONAL_COLUMNS if c.required)
BY_HEADER = {c.header: c for c in NATIONAL_COLUMNS}
BY_KEY = {c.key: c for c in NATIONAL_COLUMNS}

# This platform's layout: today's columns first (unchanged), then the template's fields by key.
XUEJI_BASE = (
    "id_number",
    "name",
    "gender",
    "birth_date",
    "school_code",
    "grade",
    "class_name",
    "entry_year",
    "household_code",
    "guardian_name",
    "guardian_phone",
)
# Required in this platform's layout (a missing one of these columns: "缺少此列").
XUEJI_REQUIRED = (
    "id_number",
    "name",
    "gender",
    "birth_date",
    "school_code",
    "grade",
    "entry_year",
)
XUEJI_COLUMNS = (
    XUEJI_BASE
    + tuple(c.key for c in NATIONAL_COLUMNS if c.key not in XUEJI_BASE and c.key != "entry_month")
    + ("entry_month",)
)

GRADE_WORDS = {
    **{w: n for n, w in enumerate("一二三四五六", start=1) for w in (f"{w}年级",)},
    "七年级": 7, "八年级": 8, "九年级": 9, "初一": 7, "初二": 8, "初三": 9,
    "高一": 10, "高二": 11, "高三": 12, "十年级": 10, "十一年级": 11, "十二年级": 12,
    "中职一年级": 10, "中职二年级": 11, "中职三年级": 12,
}  # fmt: skip
GRADE_NAMES = {
    1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级",
    7: "初一", 8: "初二", 9: "初三", 10: "高一", 11: "高二", 12: "高三",
}  # fmt: skip
# 班号's stage digit (001): 1 primary, 2 junior, 3 senior (vocational counted with senior).
STAGE_DIGITS = {"primary": "1", "junior": "2", "senior": "3", "vocational": "3"}
_CLASS_NUMBER = re.compile(r"(\d{4})([123])(\d{2})")
_YYYYMMDD = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YYYYMM = re.compile(r"(\d{4})(\d{2})")


def county_part(code: str | None) -> str:
    """The county (县、区) a division code names: its first 6 digits, whether the code has
    6 (GB/T 2260) or 12 (the national template's, down to 村、社区)."""
    return (code or "")[:6]


def stage_of_grade(grade: int) -> str:
    return "primary" if grade <= 6 else "junior" if grade <= 9 else "senior"


def class_label(class_number: str) -> str:
    """班级名称 by the template's rule: 小学2011级(02)班 for 班号 2011102."""
    match = _CLASS_NUMBER.fullmatch(class_number)
    if not match:
        return class_number
    year, digit, number = match.groups()
    stage = {"1": "primary", "2": "junior", "3": "senior"}[digit]
    return f"{STAGE_LABELS[stage]}{year}级({number})班"


def is_national(columns: list[str]) -> bool:
    """A sheet is in the national layout when its headers are the template's (Chinese)."""
    return "姓名" in columns and ("身份证件号" in columns or "学校标识码" in columns)


def national_to_keys(values: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """One national-layout row as the xueji layout's keyed text, and the format problems as
    (header, message). Coded columns are checked here; the record's rules (GB 11643, the
    school, the stage) are checked afterwards on the keyed values, as for the xueji layout."""
    keyed: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for column in NATIONAL_COLUMNS:
        value = values.get(column.header, "").strip()
        if not value:
            continue
        if column.codes and value not in column.codes:
            if len(column.codes) > 8:
                shown = f"代码表中的值（如 {'、'.join(column.codes[:3])}）"
            else:
                shown = f"{'、'.join(column.codes)} 之一"
            problems.append((column.header, f"应为{shown}，实为“{value}”。"))
            continue
        keyed[column.key] = value
    if "gender" in keyed:
        keyed["gender"] = "M" if keyed["gender"] == "男" else "F"
    _read_date(keyed, problems)
    _read_grade(keyed, problems)
    _read_entry(keyed, problems)
    _read_class_number(keyed, problems)
    for key in (
        "birthplace_code",
        "household_code",
        "member1_household_code",
        "member2_household_code",
    ):
        code = keyed.get(key)
        if code is not None and not re.fullmatch(r"\d{12}", code):
            problems.append((BY_KEY[key].header, f"应为 12 位行政区划代码，实为“{code}”。"))
    for n in range(1, MEMBERS + 1):
        guardian = keyed.get(f"member{n}_guardian")
        if guardian is not None:
            keyed[f"member{n}_guardian"] = "1" if guardian == "是" else ""
    return keyed, problems


def _read_date(keyed: dict[str, str], problems: list) -> None:
    value = keyed.get("birth_date")
    if value is None:
        return
    match = _YYYYMMDD.fullmatch(value)
    if match:
        keyed["birth_date"] = "-".join(match.groups())
    elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # an Excel date cell reads as ISO
        problems.append(("出生日期", f"应为 8 位数字（如 20150301），实为“{value}”。"))
        del keyed["birth_date"]


def _read_grade(keyed: dict[str, str], problems: list) -> None:
    value = keyed.get("grade")
    if value is None:
        return
    if value in GRADE_WORDS:
        keyed["grade"] = str(GRADE_WORDS[value])
    elif not value.isdigit():
        problems.append(("年级", f"应为 一年级…六年级、初一…初三、高一…高三，实为“{value}”。"))
        del keyed["grade"]


def _read_entry(keyed: dict[str, str], problems: list) -> None:
    value = keyed.pop("entry_month", None)
    if value is None:
        return
    match = _YYYYMM.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        problems.append(("入学年月", f"应为 6 位数字（如 201309），实为“{value}”。"))
        return
    keyed["entry_year"], keyed["entry_month"] = match.group(1), str(int(match.group(2)))


def _read_class_number(keyed: dict[str, str], problems: list) -> None:
    value = keyed.get("class_number")
    if value is None:
        return
    match = _CLASS_NUMBER.fullmatch(value)
    if not match:
        problems.append(
            (
                "班号",
                f"应为 7 位数字：入学年份 + 学段（1 小学、2 初中、3 高中）+ 2 位班级，实为“{value}”。",
            )
        )
        del keyed["class_number"]
        return
    year, digit, _ = match.groups()
    grade = keyed.get("grade", "")
    if grade.isdigit() and STAGE_DIGITS[stage_of_grade(int(grade))] != digit:
        problems.append(
            ("班号", f"第 5 位学段编号 {digit} 与年级“{GRADE_NAMES.get(int(grade), grade)}”不符。")
        )
    if keyed.get("entry_year") not in (None, year):
        problems.append(("班号", f"前 4 位入学年份 {year} 与入学年月不符。"))
    keyed.setdefault("class_name", class_label(value))


def record_to_national(student: Any) -> dict[str, str]:
    """A record in the national layout, by header: what the template's columns say of it.
    (Written for every row of an export: the members are read once, plain columns directly.)"""
    out: dict[str, str] = {}
    school = student.school
    members = student.members or []
    for column in NATIONAL_COLUMNS:
        key = column.key
        if key in _COMPUTED:
            out[column.header] = _national_value(student, school, key)
        elif key.startswith("member"):
            out[column.header] = _member_value(members, int(key[6]), key[8:])
        else:
            value = getattr(student, key)
            out[column.header] = "" if value is None else str(value)
    extra = student.national_extra or {}
    for header in NATIONAL_EXTRA:
        out[header] = str(extra.get(header, "") or "")
    return out


_COMPUTED = frozenset({"school_code", "gender", "birth_date", "grade", "entry_month", "id_type"})


def _national_value(student: Any, school: Any, key: str) -> str:
    if key == "school_code":
        return school.identifier or school.code
    if key == "gender":
        return "男" if student.gender == "M" else "女"
    if key == "birth_date":
        return student.birth_date.strftime("%Y%m%d")
    if key == "grade":
        return GRADE_NAMES.get(student.grade, str(student.grade))
    if key == "entry_month":
        return f"{student.entry_year:04d}{student.entry_month or 9:02d}"
    return student.id_type or ID_TYPES[0]  # id_type


def _member_value(members: list, n: int, field: str) -> str:
    member = members[n - 1] if len(members) >= n else {}
    value = member.get(field)
    if field == "guardian":
        return "" if value is None else ("是" if value else "否")
    return str(value or "")


def record_to_xueji(student: Any) -> dict[str, str]:
    """A record in the xueji layout, by key, in the formats `xueji import students` reads
    (gender M/F, ISO dates, grade 1–12, a member's guardian "1" or blank)."""
    out: dict[str, str] = {}
    for key in XUEJI_COLUMNS:
        if key == "school_code":
            out[key] = student.school.code
        elif key == "birth_date":
            out[key] = student.birth_date.isoformat()
        elif key == "entry_month":
            out[key] = "" if student.entry_month is None else str(student.entry_month)
        elif key.startswith("member"):
            value = _member_value(student.members or [], int(key[6]), key[8:])
            out[key] = (
                {"是": "1", "否": ""}.get(value, value) if key.endswith("guardian") else value
            )
        else:
            value = getattr(student, key)
            out[key] = "" if value is None else str(value)
    return out
