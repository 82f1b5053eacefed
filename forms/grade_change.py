"""What skipping a grade (跳级) and repeating one (留级) both ask: the grade the student goes
to, the class, a note and the guardian's written request. One schema maker and one field
list, so the two forms differ only in their words."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from . import GRADE_CHOICES, Field
from .evidence import evidence_field


def grade_change_schema(grade_label: str, class_required: str, max_grade: int) -> type[Schema]:
    """A schema for a grade change: `grade_label` names the grade asked for (跳入年级,
    留级后的年级), `class_required` is the message for a missing class."""

    class GradeChangeSchema(Schema):
        to_grade = fields.Integer(
            strict=False,
            required=True,
            validate=validate.Range(
                min=1,
                max=max_grade,
                error=f"{grade_label}应为 1–{max_grade} 之间的整数"
                "（小学一年级为 1，初一为 7，高一为 10）。",
            ),
            error_messages={
                "required": f"请填写{grade_label}。",
                "invalid": f"{grade_label}必须是整数。",
            },
        )
        to_class_name = fields.String(
            required=True,
            validate=validate.Length(max=32, error="班级名称不能超过 32 个字符。"),
            error_messages={"required": class_required},
        )
        note = fields.String(load_default="", validate=validate.Length(max=1000))
        evidence = evidence_field()

        @validates("to_class_name")
        def class_not_blank(self, value, **kwargs):
            if not value.strip():
                raise ValidationError(class_required)

        @post_load
        def strip_class(self, data, **kwargs):
            data["to_class_name"] = data["to_class_name"].strip()
            return data

    return GradeChangeSchema


def grade_change_fields(grade_label: str, grade_help: str, request: str) -> tuple[Field, ...]:
    """The form's fields; `request` names the guardian's application (跳级申请, 留级申请)."""
    return (
        Field("to_grade", grade_label, "select", GRADE_CHOICES, required=True, help=grade_help),
        Field("to_class_name", "编入班级", required=True, help="如“2”或“三（2）班”。"),
        Field("note", "说明", "textarea"),
        Field(
            "evidence",
            "监护人书面申请",
            "files",
            required=True,
            help=f"监护人签字的{request}扫描件，PDF、JPEG 或 PNG，单个不超过 10 MB。",
        ),
    )
