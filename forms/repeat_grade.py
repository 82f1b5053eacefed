"""Form of repeat a grade (留级), RULES.md §5 and its additions (003 篇10 四).

The shape of a value is checked here (a 422 naming the field), and so is "exactly one grade
below the current one" once the student is known (`check_one_grade_down`, called by the
starter). Whether repeating is allowed at all (the region's table), inside one stage and
into a class with room is the automatic check's job, so that a refusal carries the rule's
name.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from . import Field, FormSpec, register
from .evidence import evidence_field

CLASS_REQUIRED = "请填写留级后编入的班级。"


class RepeatGradeSchema(Schema):
    to_grade = fields.Integer(
        strict=False,
        required=True,
        validate=validate.Range(
            min=1,
            max=11,
            error="留级后的年级应为 1–11 之间的整数（小学一年级为 1，初一为 7，高一为 10）。",
        ),
        error_messages={"required": "请填写留级后的年级。", "invalid": "留级后的年级必须是整数。"},
    )
    to_class_name = fields.String(
        required=True,
        validate=validate.Length(max=32, error="班级名称不能超过 32 个字符。"),
        error_messages={"required": CLASS_REQUIRED},
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()

    @validates("to_class_name")
    def class_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError(CLASS_REQUIRED)

    @post_load
    def strip_class(self, data, **kwargs):
        data["to_class_name"] = data["to_class_name"].strip()
        return data


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
        schema=RepeatGradeSchema,
        fields=(
            Field(
                "to_grade",
                "留级后的年级",
                "number",
                required=True,
                help="比现年级低一个年级，且不跨学段（小学 1–6，初中 7–9，高中、中职 10–12）。",
            ),
            Field("to_class_name", "编入班级", required=True, help="如“2”或“三（2）班”。"),
            Field("note", "说明", "textarea"),
            Field(
                "evidence",
                "监护人书面申请",
                "files",
                required=True,
                help="监护人签字的留级申请扫描件，PDF、JPEG 或 PNG，单个不超过 10 MB。",
            ),
        ),
    )
)
