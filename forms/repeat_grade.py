"""Form of repeat a grade (留级), RULES.md §5 and its additions (003 篇10 四).

The shape of a value is checked here (a 422 naming the field), and so is "exactly one grade
below the current one" once the student is known (`check_one_grade_down`, called by the
starter). Whether repeating is allowed at all (the region's table), inside one stage and
into a class with room is the automatic check's job, so that a refusal carries the rule's
name.
"""

from __future__ import annotations

from marshmallow import ValidationError

from . import FormSpec, register
from .grade_change import grade_change_fields, grade_change_schema


def check_one_grade_down(grade: int, to_grade: int) -> None:
    """Raise a field error unless `to_grade` is exactly one below the student's `grade`."""
    if to_grade == grade - 1:
        return
    if grade == 1:
        message = "学生现为小学一年级，没有更低的年级，不能留级。"
    else:
        message = f"留级只能降一个年级：学生现为 {grade} 年级，留级后的年级应填 {grade - 1}。"
    raise ValidationError({"to_grade": [message]})


REPEAT_GRADE_APPLY = register(
    FormSpec(
        key="repeat_grade_apply",
        title="留级申请",
        schema=grade_change_schema("留级后的年级", "请填写留级后编入的班级。", max_grade=11),
        fields=grade_change_fields(
            "留级后的年级",
            "比现年级低一个年级，且不跨学段（小学 1–6，初中 7–9，高中、中职 10–12）。",
            "留级申请",
        ),
    )
)
