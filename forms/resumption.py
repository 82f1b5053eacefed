"""Resumption (复学): the school's application (RULES.md §2)."""

from marshmallow import Schema, fields, validate

from . import GRADE_CHOICES, Field, FormSpec, register, yes_no
from .evidence import NOTE, evidence_field
from .validators import required_date


class ResumptionSchema(Schema):
    resume_date = required_date("复学日期")
    to_grade = fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(1, 12, error="年级必须在 1 到 12 之间。"),
        error_messages={"required": "请填写复学年级。", "invalid": "年级必须是整数。"},
    )
    to_class_name = fields.String(load_default="", validate=validate.Length(max=32))
    # Where the rule is "the next grade unless equal progress" (vocational, 002 第十四条).
    equal_progress = fields.Boolean(
        load_default=False, error_messages={"invalid": "请选择“是”或“否”。"}
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()


RESUMPTION_APPLY = register(
    FormSpec(
        key="resumption_apply",
        title="复学申请",
        schema=ResumptionSchema,
        fields=(
            Field("resume_date", "复学日期", "date", required=True, help="不得早于休学期满日期。"),
            Field(
                "to_grade",
                "复学年级",
                "select",
                GRADE_CHOICES,
                required=True,
                help="可复学的年级按本地区规定（默认：义务教育阶段回原年级；高中可回原年级或升入下一年级）。",
            ),
            Field("to_class_name", "复学班级", help="可不填，沿用原班级。"),
            yes_no(
                "equal_progress",
                "已达到同年级学习进度",
                help="规定“原则上随下一年级学习”的（默认：中职，002 第十四条）：已达到同年级相同"
                "学习进度的，选“是”并在证明材料中附成绩证明，可随原年级学习。",
            ),
            NOTE,
            Field(
                "evidence",
                "证明材料",
                "files",
                required=True,
                help="休学证明；因病休学的须附医院康复证明；退学（流失）后重返学校的，附本人或监护人"
                "的复学申请（在原档案上复学，不新建档案）。PDF、JPEG 或 PNG，单个不超过 10 MB。",
            ),
        ),
    )
)
