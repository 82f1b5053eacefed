"""New-student registration (新生注册): check the admitted list, then create the records.

RULES.md §5; 000 第五条. Every row is checked as `xueji import students` checks it (GB 11643
check digit, birth date and gender against the ID number, no ID twice in the list, and
查重: no second status for an ID that holds an active one anywhere in the system), plus the
registration rules below. Any problem sends the whole list back to the school with one
problem per row and field. After the county's review the records are created in one go,
numbered by the region's format (`status_number_format`, set by the BPMN's local rules):
all rows or none. The finishing step checks the list again, since an ID may have gained
an active status elsewhere while the list waited for review.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from forms.spreadsheets import RowError, numbered, records_table
from forms.student_fields import BY_KEY, XUEJI_BASE, is_national
from forms.student_rows import HELD_ELSEWHERE, check_students
from webapp.models import Organization, StatusHistory, Student, db
from webapp.models.vocabulary import STAGE_GRADES

from . import Context, handler
from .admission import STRUCK_RULE, check_report, city_admits
from .records import create_records
from .school_rules import CLASS_CAPS, students_in_class
from .serials import reserve_serials
from .status_numbers import national_numbers

# The grade a new student enters at each stage (新生 = the first year of the stage).
ENTRY_GRADES = {"primary": 1, "junior": 7, "senior": 10, "vocational": 10}
ENTRY_GRADE_NAMES = {1: "小学一年级", 7: "初一（七年级）", 10: "高一（十年级）"}
SCHOOL_AGE = 6  # 000 第五条: 小学新生入学年龄为年满 6 周岁（当年 8 月 31 日前出生）
# A `deferral` cell that says "no"; anything else notes a deferral (延缓入学, e.g. its approval).
NOT_NOTED = {"", "0", "否", "无", "no", "n", "false"}
PROBLEMS_IN_MESSAGE = 3
# The list's columns this procedure reads itself, beside a student import's.
KNOWN = ("deferral", "report_by", "reported_on", "leave")

# An ID number whose record was withdrawn (流失) or cancelled (注销, perhaps by mistake): a
# drop-out who comes back resumes on that record, "无需再为其建立新的电子档案" (003 篇2 第十四条,
# 篇7 第十二条), except a vocational one, who may not resume (002 第十六条); any other second
# record is made only once the county has seen the first (its review lists them).
EARLIER_STATUSES = ("withdrawn", "cancelled")
RETURNING_DROPOUT = (
    "该身份证号已有退学（流失）的学籍档案：重返学校继续学习的，由原就读学校按复学办理，"
    "无需再建立新的学籍档案（003 篇2 第十四条、篇7 第十二条）；如有疑问请联系主管教育行政部门。"
)
UNSEEN_EARLIER = (
    "该身份证号在县级审核后才出现退学或注销的学籍档案：须经县级教育行政部门看到原档案后"
    "才能建立新学籍，已退回学校重新提交。"
)
ROW_RULES = {
    RETURNING_DROPOUT: "returning_dropout_resumes",
    UNSEEN_EARLIER: "earlier_record_seen_by_county",
}


# -- the rows --------------------------------------------------------------------------------


def _deferral(values: dict[str, str]) -> str | None:
    raw = values.get("deferral", "").strip()
    return None if raw.lower() in NOT_NOTED else raw


def _school_age(row, birth: date, entry_year: int, deferral: str | None) -> None:
    """Primary year 1: 6 by 31 August of the entry year. A child who is already 7 then
    entered late, which needs an approved deferral (延缓入学: 000 ⑦ 第五条 "因身体状况需要延缓
    入学的…批准"); a deferral never lets a child in early."""
    cutoff = date(entry_year - SCHOOL_AGE, 8, 31)
    if birth > cutoff:
        row.error(
            "birth_date",
            f"小学一年级新生须年满 {SCHOOL_AGE} 周岁（{cutoff.year} 年 8 月 31 日及以前出生，"
            f"000 第五条）；该生 {birth.isoformat()} 出生，未到入学年龄。"
            "延缓入学的注明不能使未满龄儿童提前入学。",
        )
    elif birth <= date(entry_year - SCHOOL_AGE - 1, 8, 31) and deferral is None:
        row.error(
            "birth_date",
            f"该生 {birth.isoformat()} 出生，到 {entry_year} 年 8 月 31 日已满 {SCHOOL_AGE + 1} 周岁，"
            "超过小学一年级入学年龄：经批准延缓入学的，请在 deferral 列注明（如批准文号）。",
        )


def earlier_records(id_numbers) -> dict[str, Student]:
    """The latest withdrawn or cancelled record of each of these ID numbers."""
    wanted = sorted({str(n).strip().upper() for n in id_numbers if n})
    found: dict[str, Student] = {}
    for start in range(0, len(wanted), 500):
        for student in Student.query.filter(
            Student.id_number.in_(wanted[start : start + 500]),
            Student.status.in_(EARLIER_STATUSES),
        ).order_by(Student.id):
            found[student.id_number] = student
    return found


def _earlier_record(row, values: dict[str, Any], earlier: dict[str, Student]) -> None:
    """A returning drop-out is refused (resume instead); any other earlier record is named
    in the row's values for the county to see (`earlier_record_id`)."""
    old = earlier.get(values["id_number"] or "")
    if old is None or any(e.row == row.number and e.field == "id_number" for e in row.errors):
        return
    if old.status == "withdrawn" and old.stage != "vocational":
        row.error("id_number", RETURNING_DROPOUT)
    else:
        values["earlier_record_id"] = old.id


def _registration_rules(
    school: Organization, entry_year: int, earlier: dict[str, Student]
) -> Callable:
    """This procedure's rules on top of the student import's, for one school's list."""
    entry_grades = sorted({ENTRY_GRADES[s] for s in school.stage_list})
    grade_names = "、".join(ENTRY_GRADE_NAMES[g] for g in entry_grades) or "未设置学段"
    offered = {g for s in school.stage_list for g in STAGE_GRADES[s]}
    seats: dict[tuple[int, str], int] = {}  # (grade, class) → pupils seated, list rows so far

    def class_size_cap(row, grade: int, class_name: str) -> None:
        """000 ⑦ 第八条: the class stays within its stage's cap, counting those already in
        it and the rows above (checked again by the finishing step)."""
        stage = next(s for s in school.stage_list if grade in STAGE_GRADES[s])
        key = (grade, class_name)
        if key not in seats:
            seats[key] = students_in_class(school.id, grade, class_name)
        seats[key] += 1
        if seats[key] > CLASS_CAPS[stage]:
            row.error(
                "class_name",
                f"class_size_cap：{grade} 年级 {class_name} 班已达班额上限（{CLASS_CAPS[stage]} 人，"
                "000 ⑦ 第八条），请编入其他班级。",
            )

    def check(row, values: dict[str, Any]) -> None:
        listed = values["school"]
        if listed is not None and listed.id != school.id:
            row.error(
                "school_code",
                f"名单只能登记本校（{school.name}，代码 {school.code}）的新生，"
                f"该行为“{listed.code}”（{listed.name}）。",
            )
        if values["entry_year"] is not None and values["entry_year"] != entry_year:
            row.error(
                "entry_year",
                f"应为本次注册的入学年份 {entry_year}，实为 {values['entry_year']}。",
            )
        grade = values["grade"]
        if grade is not None and grade in offered and grade not in entry_grades:
            row.error(
                "grade", f"新生注册只登记起始年级（本校：{grade_names}），实为 {grade} 年级。"
            )
        if grade in entry_grades and values["class_name"]:
            class_size_cap(row, grade, values["class_name"])
        deferral = _deferral(row.values)
        if grade == 1 and values["birth_date"] is not None:
            _school_age(row, values["birth_date"], entry_year, deferral)
        values["deferral"] = deferral
        _earlier_record(row, values, earlier)
        check_report(row, values)

    return check


def check_list(
    rows: list[dict], school: Organization, entry_year: int
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Every row checked, in either layout (errors name the list's own headers); a blank
    school (school_code, 学校标识码) or entry_year is the registration's own."""
    national = is_national([str(k).strip() for r in rows if isinstance(r, dict) for k in r])
    table = records_table(rows, () if national else XUEJI_BASE)
    for _, values in table.rows:
        if national:
            values["学校标识码"] = values.get("学校标识码") or school.identifier or school.code
            continue
        if not values.get("school_code"):
            values["school_code"] = school.code
        if not values.get("entry_year"):
            values["entry_year"] = str(entry_year)
    id_key = "身份证件号" if national else "id_number"
    earlier = earlier_records(v.get(id_key) for _, v in table.rows)
    return check_students(table, _registration_rules(school, entry_year, earlier), known=KNOWN)


def _earlier_seen(rows: list[dict], students: list[dict[str, Any]]) -> list[dict]:
    """The rows whose ID has an earlier record, as the county's review lists them."""
    by_id = {id_of_row(r): n for n, r in numbered(rows)}
    return [
        {"row": by_id.get(s["id_number"]), "name": s["name"], "record_id": s["earlier_record_id"]}
        for s in students
        if s.get("earlier_record_id")
    ]


def _struck(rows: list[dict], students: list[dict[str, Any]]) -> tuple[list, list[dict]]:
    """The students who keep their place, and those who lost it (admission.check_report)."""
    row_of = {id_of_row(r): n for n, r in numbered(rows)}
    struck = [
        {"row": row_of.get(s["id_number"]), "name": s["name"], "rule": STRUCK_RULE}
        | {"message": s["struck"]}
        for s in students
        if s.get("struck")
    ]
    return [s for s in students if not s.get("struck")], struck


def id_of_row(row: dict) -> str:
    """The row's ID number, in either layout's column."""
    value = next((v for k, v in row.items() if str(k).strip().lower() in ID_COLUMNS), "")
    return str(value or "").strip().upper()


ID_COLUMNS = ("id_number", BY_KEY["id_number"].header)


def _verdict(rows: list[dict], errors: list[RowError], when: str = "") -> dict:
    problems = [
        {"row": e.row, "field": e.field, "message": e.message, "name": _name(rows, e.row)}
        | ({"held_elsewhere": True} if e.message == HELD_ELSEWHERE else {})
        | ({"rule": ROW_RULES[e.message]} if e.message in ROW_RULES else {})
        for e in errors
    ]
    bad_rows = len({e.row for e in errors})
    verdict = {
        "ok": not errors,
        "total": len(rows),
        "valid": len(rows) - bad_rows,
        "problem_rows": bad_rows,
        "problems": problems,
    }
    if errors:
        shown = "；".join(str(e).rstrip("。") for e in errors[:PROBLEMS_IN_MESSAGE])
        more = "；……" if len(errors) > PROBLEMS_IN_MESSAGE else "。"
        verdict["message"] = (
            f"{when}名单 {len(rows)} 人中有 {bad_rows} 行未通过检查（共 {len(errors)} 处问题），"
            f"已退回学校修改：{shown}{more}"
        )
    else:
        verdict["message"] = f"名单 {len(rows)} 人逐行检查及查重通过。"
    return verdict


def _name(rows: list[dict], number: int | None) -> str:
    """The name on the list's row `number` (as the user sees it), in either layout."""
    row = next((r for n, r in numbered(rows) if n == number), None)
    if row is None:
        return ""
    return str(
        next((v for k, v in row.items() if str(k).strip().lower() in NAME_COLUMNS), "") or ""
    )


NAME_COLUMNS = ("name", BY_KEY["name"].header)


# -- status numbers --------------------------------------------------------------------------


def _national(students: list[dict], school: Organization, entry_year: int) -> list[str]:
    """The national number: G + the 18-digit ID number (003 篇4), L + birth date + serial
    for a student without a resident ID (`status_numbers`)."""
    return national_numbers(students)


def _two_digits(code: str) -> str:
    return "".join(c for c in code if c.isdigit())[-2:].rjust(2, "0")


def _fujian_vocational(students: list[dict], school: Organization, entry_year: int) -> list[str]:
    """Fujian vocational, 10 digits (002 第八条): 2 entry year + 2 county + 2 school + 4
    serial. Serials come from one counter per prefix, so a number is never given twice."""
    county = school.ancestor("county")
    prefix = f"{entry_year % 100:02d}{_two_digits(county.code if county else '')}"
    prefix += _two_digits(school.code)
    serials = reserve_serials(f"status_number:{prefix}", len(students))
    if serials and serials[-1] > 9999:
        raise ValueError(f"学籍号前缀 {prefix} 的 4 位流水号已用尽。")
    return [f"{prefix}{n:04d}" for n in serials]


NumberingFn = Callable[[list[dict], Organization, int], list[str]]
NUMBERING: dict[str, NumberingFn] = {
    "national": _national,
    "fujian_vocational": _fujian_vocational,
}
DEFAULT_NUMBERING = "national"


def numbering(data: dict) -> NumberingFn:
    name = data.get("status_number_format") or DEFAULT_NUMBERING
    if name not in NUMBERING:
        known = "、".join(NUMBERING)
        raise ValueError(f"流程本地规则中的学籍号格式“{name}”未知（可用：{known}）。")
    return NUMBERING[name]


# -- the steps -------------------------------------------------------------------------------


@handler("registration.check")
def check(ctx: Context) -> dict:
    """Check every row and 查重; the verdict carries the problem list by row and field."""
    numbering(ctx.data)  # a misspelt local rule fails at the first step, not after review
    school = db.session.get(Organization, ctx.data["school_id"])
    rows = ctx.data["rows"]
    students, errors = check_list(rows, school, int(ctx.data["entry_year"]))
    verdict = _verdict(rows, errors)
    # Senior and vocational new students: the city admits and approves after the county.
    verdict["needs_city"] = any(city_admits(s["grade"]) for s in students)
    students, struck = _struck(rows, students)
    if struck and not errors:
        verdict["struck"] = struck
        verdict["message"] += (
            f"其中 {len(struck)} 人逾期未报到，取消入学资格，不予注册（⑦ 第六条）。"
        )
    seen = _earlier_seen(rows, students) if not errors else []
    if seen:
        verdict["earlier_records"] = seen
        verdict["message"] += (
            f"其中 {len(seen)} 人的身份证号已有退学或注销的学籍档案，请县级教育行政部门核对原档案"
            "后再决定是否建立新学籍。"
        )
    return verdict


@handler("registration.finalize")
def finalize(ctx: Context) -> dict:
    """Check the list again, number it and create every record; all rows or none."""
    rows = ctx.data["rows"]
    done = StatusHistory.query.filter_by(instance_id=ctx.instance.id).count()
    if done:
        return {**ctx.data.get("check", {}), "ok": True, "created": done}
    school = db.session.get(Organization, ctx.data["school_id"])
    entry_year = int(ctx.data["entry_year"])
    students, errors = check_list(rows, school, entry_year)
    students, struck = _struck(rows, students)
    seen = {r["record_id"] for r in ctx.data.get("check", {}).get("earlier_records", [])}
    row_of = {id_of_row(r): n for n, r in numbered(rows)}
    for s in students:
        if s.get("earlier_record_id") and s["earlier_record_id"] not in seen:
            errors.append(RowError(row_of.get(s["id_number"]), "id_number", UNSEEN_EARLIER))
    if errors:
        return _verdict(rows, errors, when="办结前复查：未创建任何学籍。")
    numbers = numbering(ctx.data)(students, school, entry_year)
    records, notes = [], []
    for values, number in zip(students, numbers, strict=True):
        deferral = values.pop("deferral", None)
        earlier = values.pop("earlier_record_id", None)
        listed = values.pop("school")
        records.append(
            {**values, "school_id": listed.id, "status": "enrolled", "status_number": number}
        )
        notes.append(
            ({"deferral": deferral} if deferral else {})
            | ({"earlier_record_id": earlier} if earlier else {})
        )
    created = create_records(ctx, "registration", records, school.id, notes)
    verdict = _verdict(rows, [])
    verdict.update(
        created=created,
        numbering=ctx.data.get("status_number_format") or DEFAULT_NUMBERING,
        message=f"已为 {created} 名新生建立学籍并编发学籍号。",
    )
    if struck:
        verdict["struck"] = struck
        verdict["message"] += f"{len(struck)} 人逾期未报到，取消入学资格，未注册（⑦ 第六条）。"
    return verdict
