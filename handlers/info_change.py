"""Key-field change (学籍信息变更, 000 第八条.12): the check and the final step (RULES.md §5).

Its checks run twice: when the school submits (before anyone is asked) and again right
before the record changes, since an ID number may be taken while the reviewers decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from marshmallow import ValidationError
from stdnum.cn import ric

from forms.info_change import GENDERS, INFO_FIELD_LABELS
from forms.validators import check_id_number, id_gender, is_valid_id_number
from webapp.models import ACTIVE_STATUSES, Student, db

from . import Context, handler
from .records import change_record
from .rules import RuleSet
from .school_rules import ACTIVE_STATUS, NO_OPEN_PROCEDURE

GENDER_NAMES = dict(GENDERS)


def _column_value(column: str, value):
    return date.fromisoformat(value) if column == "birth_date" and isinstance(value, str) else value


@dataclass
class InfoChangeFacts:
    instance_id: int
    student: Student
    field: str
    new_value: str
    also: dict  # with an ID-number change: birth date and gender corrected alongside

    @property
    def field_label(self) -> str:
        return INFO_FIELD_LABELS.get(self.field, self.field)

    @property
    def requested(self) -> dict:
        """Column → new value (Python types) of everything this application changes."""
        out = {self.field: _column_value(self.field, self.new_value)}
        if self.field == "id_number":
            out.update({k: _column_value(k, v) for k, v in self.also.items() if v is not None})
        return out

    @property
    def changes(self) -> dict:
        return {k: v for k, v in self.requested.items() if getattr(self.student, k) != v}

    @property
    def identity_after(self) -> tuple[str, date, str]:
        s, new = self.student, self.requested
        return (
            new.get("id_number", s.id_number),
            new.get("birth_date", s.birth_date),
            new.get("gender", s.gender),
        )

    @property
    def id_problem(self) -> str:
        try:
            check_id_number(self.new_value)
        except ValidationError as exc:
            return exc.messages[0]
        return ""

    @property
    def identity_problem(self) -> str:
        number, birth, gender = self.identity_after
        try:
            encoded = ric.get_birth_date(number)
        except ric.ValidationError:
            return f"身份证号 {number} 中的出生日期无效"
        problems = []
        if encoded != birth:
            problems.append(f"身份证号中的出生日期为 {encoded:%Y-%m-%d}，记录为 {birth:%Y-%m-%d}")
        if id_gender(number) != gender:
            problems.append(
                f"身份证号中的性别为{GENDER_NAMES[id_gender(number)]}，"
                f"记录为{GENDER_NAMES.get(gender, gender)}"
            )
        return "；".join(problems)


INFO_CHANGE_RULES = RuleSet()
INFO_CHANGE_RULES.add(ACTIVE_STATUS)
INFO_CHANGE_RULES.add(NO_OPEN_PROCEDURE)


@INFO_CHANGE_RULES.rule(
    "value_changed",
    "变更后的{f.field_label}与学籍记录中现有的相同，无需变更。",
    source="平台规则：变更须改变学籍信息（000 第八条.12）",
)
def _value_changed(f: InfoChangeFacts) -> bool:
    return f.field in f.changes


@INFO_CHANGE_RULES.rule(
    "id_number_valid", "新身份证号不符合 GB 11643：{f.id_problem}", source="GB 11643；000 第八条.12"
)
def _id_number_valid(f: InfoChangeFacts) -> bool:
    return f.field != "id_number" or not f.id_problem


@INFO_CHANGE_RULES.rule(
    "id_matches_identity",
    "变更后身份证号与出生日期、性别不一致（{f.identity_problem}）。"
    "如出生日期或性别也有误，请在变更身份证号时一并更正。",
    source="GB 11643；000 第八条.12",
)
def _id_matches_identity(f: InfoChangeFacts) -> bool:
    if f.field == "name":
        return True
    if f.field != "id_number" and not is_valid_id_number(f.student.id_number or ""):
        return True  # a record without a resident ID (L number): nothing to agree with
    return not f.identity_problem


@INFO_CHANGE_RULES.rule(
    "id_unique",
    "新身份证号已有其他有效学籍（一人一籍），全国学籍系统会自动拒绝该变更，请核实。",
    source="002 一.5，003 篇4（一人一籍）",
)
def _id_unique(f: InfoChangeFacts) -> bool:
    if f.field != "id_number":
        return True
    return not db.session.query(
        Student.query.filter(
            Student.id_number == f.new_value,
            Student.status.in_(ACTIVE_STATUSES),
            Student.id != f.student.id,
        ).exists()
    ).scalar()


def _info_change_facts(ctx: Context) -> InfoChangeFacts:
    data = ctx.data
    return InfoChangeFacts(
        instance_id=ctx.instance.id,
        student=db.session.get(Student, data["student_id"]),
        field=data["field"],
        new_value=data["new_value"],
        also={k: data.get(k) for k in ("birth_date", "gender")},
    )


def _national_number(student: Student) -> bool:
    """The status number is the national one (G + ID, or L for a student without an ID).

    Regional numbering (Jiangsu 19/14 digits, Fujian 10 digits) does not follow the ID.
    """
    number = student.status_number or ""
    return not number or number == "G" + student.id_number or number.startswith("L")


@handler("info_change.check")
def check_info_change(ctx: Context) -> dict:
    return INFO_CHANGE_RULES.first_failure(_info_change_facts(ctx)).result()


@handler("info_change.finalize")
def finalize_info_change(ctx: Context) -> dict:
    """Change the field(s); a new ID number also renews the national status number."""
    facts = _info_change_facts(ctx)
    changes = facts.changes
    if "id_number" in changes and _national_number(facts.student):
        changes["status_number"] = "G" + changes["id_number"]
    _, row = change_record(ctx, "info_change", changes)
    return {"changed": sorted(changes), "history_id": row.id if row else None}
