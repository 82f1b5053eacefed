"""Skip a grade (跳级): the school's application (RULES.md §5).

The shape of a value is checked here (a 422 naming the field); whether the change is
allowed (one grade up, within the stage, the class has room) is the automatic check's job,
so that a refusal carries the rule's name.
"""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from . import Field, FormSpec, register
from .evidence import evidence_field


class SkipGradeSchema(Schema):
    to_grade = fields.Integer(
        strict=False,
        required=True,
        validate=validate.Range(
            min=1,
            max=12,
            error="跳入年级应为 1–12 之间的整数（小学一年级为 1，初一为 7，高一为 10）。",
        ),
        error_messages={"required": "请填写跳入的年级。", "invalid": "跳入年级必须是整数。"},
    )
    to_class_name = fields.String(
        required=True,
        validate=validate.Length(max=32, error="班级名称不能超过 32 个字符。"),
        error_messages={"required": "请填写跳级后编入的班级。"},
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()

    @validates("to_class_name")
    def class_not_blank(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("请填写跳级后编入的班级。")

    @post_load
    def strip_class(self, data, **kwargs):
        data["to_class_name"] = data["to_class_name"].strip()
        return data


SKIP_GRADE_APPLY = register(
    FormSpec(
        key="skip_grade_apply",
        title="跳级申请",
        schema=SkipGradeSchema,
        fields=(
            Field(
                "to_grade",
                "跳入年级",
                "number",
                required=True,
                help="只能比现年级高一个年级，且不跨学段（小学一年级为 1，初一为 7，高一为 10）。",
            ),
            Field("to_class_name", "编入班级", required=True, help="如“2”或“三（2）班”。"),
            Field("note", "说明", "textarea"),
            Field(
                "evidence",
                "监护人书面申请",
                "files",
                required=True,
                help="监护人签字的跳级申请扫描件，PDF、JPEG 或 PNG，单个不超过 10 MB。",
            ),
        ),
    )
)
