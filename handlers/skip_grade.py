"""Skip a grade (跳级, 000 第二十二条): the check and the final step (RULES.md §5).

Its checks run twice: when the school submits (before anyone is asked) and again right
before the record changes, since a class may fill up while the reviewers decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.models import Student, db

from . import Context, handler
from .records import change_record
from .rules import RuleSet
from .school_rules import (
    ACTIVE_STATUS,
    CLASS_CAPS,
    ENROLLED_STATUS,
    NO_OPEN_PROCEDURE,
    class_has_room,
)


def grade_band(grade: int) -> str:
    """Primary 1–6, junior 7–9, upper secondary 10–12 (senior or vocational)."""
    if grade <= 6:
        return "primary"
    if grade <= 9:
        return "junior"
    return "upper"


@dataclass
class SkipGradeFacts:
    instance_id: int
    student: Student
    to_grade: int
    to_class_name: str
    allowed: bool  # the region's switch, from the one-row table skip_grade_policy (`local_rules`)

    @property
    def cap(self) -> int:
        return CLASS_CAPS[self.student.stage]


SKIP_GRADE_RULES = RuleSet()


@SKIP_GRADE_RULES.rule(
    "skip_grade_allowed",
    "本地区学籍管理规定不允许跳级（如山东省：不跳级、不留级），不能办理。",
    source="000 第二十二条；000 ⑦ 第二十五条（山东不跳级）",
)
def _skip_grade_allowed(f: SkipGradeFacts) -> bool:
    return f.allowed


SKIP_GRADE_RULES.add(ACTIVE_STATUS)


SKIP_GRADE_RULES.add(ENROLLED_STATUS)


SKIP_GRADE_RULES.add(NO_OPEN_PROCEDURE)


@SKIP_GRADE_RULES.rule(
    "one_grade_up",
    "跳级只能跳一个年级：学生现为 {f.student.grade} 年级，申请跳入 {f.to_grade} 年级。",
    source="000 第二十二条",
)
def _one_grade_up(f: SkipGradeFacts) -> bool:
    return f.to_grade == f.student.grade + 1


@SKIP_GRADE_RULES.rule(
    "same_stage",
    "跳级不得跨学段：{f.student.grade} 年级是本学段最高年级，升入下一学段须经招生录取。",
    source="000 第二十二条；000 第二部分 第一条（升入下一学段经招生录取）",
)
def _same_stage(f: SkipGradeFacts) -> bool:
    return grade_band(f.to_grade) == grade_band(f.student.grade)


@SKIP_GRADE_RULES.rule(
    "class_size_cap",
    "跳入的 {f.to_grade} 年级 {f.to_class_name} 班已达班额上限（{f.cap} 人），不能再编入。",
    source="000 ⑦ 第八条",
)
def _class_size_cap(f: SkipGradeFacts) -> bool:
    return class_has_room(f.student, f.student.school_id, f.to_grade, f.to_class_name)


def _skip_grade_facts(ctx: Context) -> SkipGradeFacts:
    data = ctx.data
    return SkipGradeFacts(
        instance_id=ctx.instance.id,
        student=db.session.get(Student, data["student_id"]),
        to_grade=int(data["to_grade"]),
        to_class_name=str(data["to_class_name"]),
        # A model without the switch runs the default rule set, which allows skipping.
        allowed=bool(data.get("allow_skip_grade", True)),
    )


@handler("skip_grade.check")
def check_skip_grade(ctx: Context) -> dict:
    return SKIP_GRADE_RULES.first_failure(_skip_grade_facts(ctx)).result()


@handler("skip_grade.finalize")
def finalize_skip_grade(ctx: Context) -> dict:
    """Grade one up, into the named class; once, with a history row."""
    facts = _skip_grade_facts(ctx)
    changes = {"grade": facts.to_grade, "class_name": facts.to_class_name}
    student, row = change_record(ctx, "skip_grade", changes)
    return {"grade": student.grade, "history_id": row.id if row else None}
