"""Graduation verification (毕业验印): the cohort, and the roster steps (RULES.md §4)."""

from marshmallow import Schema, fields, validate

from . import Field, FormSpec, register
from .cohort import CohortSchema
from .evidence import OPTIONAL_EVIDENCE_HELP, optional_evidence
from .review import review_form


class ResubmitSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = optional_evidence()  # what the county asked for when returning the roster


VERIFY_DECISIONS = (
    ("approve", "验印通过"),
    ("reject", "不予验印（终止办理）"),
    ("return", "退回县级复核"),
)


GRADUATION_APPLY = register(
    FormSpec(
        key="graduation_apply",
        title="提交毕业验印名册",
        schema=CohortSchema,
        fields=(
            Field("school_code", "学校代码", required=True),
            Field(
                "entry_year",
                "入学年份（年级）",
                "number",
                required=True,
                help="该年级处于毕业年级（六年级、九年级、高三）的在籍学生全部列入名册。",
            ),
        ),
    )
)

ROSTER_RESUBMIT = register(
    FormSpec(
        key="roster_resubmit",
        title="重新提交名册",
        schema=ResubmitSchema,
        fields=(
            Field(
                "note",
                "修改说明",
                "textarea",
                help="请先导入更正后的成绩（补考成绩），提交后系统重新逐人判定。",
            ),
            Field("evidence", "补充材料", "files", help=OPTIONAL_EVIDENCE_HELP),
        ),
    )
)

ROSTER_VERIFY = review_form(
    "roster_verify",
    "验印",
    VERIFY_DECISIONS,
    "不予验印或退回时必须填写理由。",
    "不予验印或退回时必填。",
    decision_label="验印意见",
)
