"""What repeating a grade (留级) and skipping one (跳级) share: the facts their rules judge,
the student checks both run, the class-size check and the final record change. Each
procedure keeps its own rules on the grade and the stage, and its own messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.models import Student, db

from . import Context
from .records import change_record
from .rules import Rule, RuleSet
from .school_rules import (
    ACTIVE_STATUS,
    CLASS_CAPS,
    ENROLLED_STATUS,
    NO_OPEN_PROCEDURE,
    class_has_room,
)


@dataclass
class GradeChangeFacts:
    instance_id: int
    student: Student
    to_grade: int
    to_class_name: str
    allowed: bool  # the region's switch, from its one-row policy table (`local_rules`)

    @property
    def cap(self) -> int:
        return CLASS_CAPS[self.student.stage]


def facts_of(ctx: Context, switch: str, kind: type = GradeChangeFacts, **more) -> GradeChangeFacts:
    """The facts from the instance's data; a model without the region's `switch` runs the
    default rule set, which allows the change."""
    data = ctx.data
    return kind(
        instance_id=ctx.instance.id,
        student=db.session.get(Student, data["student_id"]),
        to_grade=int(data["to_grade"]),
        to_class_name=str(data["to_class_name"]),
        allowed=bool(data.get(switch, True)),
        **more,
    )


def add_student_rules(rules: RuleSet) -> None:
    """The student is at school, enrolled, and held by no other procedure."""
    for rule in (ACTIVE_STATUS, ENROLLED_STATUS, NO_OPEN_PROCEDURE):
        rules.add(rule)


def class_size_cap(into: str) -> Rule:
    """The class the student goes into is under its stage's cap; `into` opens the message."""
    return Rule(
        "class_size_cap",
        into + " {f.to_grade} 年级 {f.to_class_name} 班已达班额上限（{f.cap} 人），不能再编入。",
        _class_has_room,
        source="000 ⑦ 第八条",
    )


def _class_has_room(f: GradeChangeFacts) -> bool:
    return class_has_room(f.student, f.student.school_id, f.to_grade, f.to_class_name)


def finalize(ctx: Context, kind: str, facts: GradeChangeFacts) -> dict:
    """Into the new grade and the named class, in the same school; once, with a history row."""
    changes = {"grade": facts.to_grade, "class_name": facts.to_class_name}
    student, row = change_record(ctx, kind, changes)
    return {"grade": student.grade, "history_id": row.id if row else None}
