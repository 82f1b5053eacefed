"""Forms of the one-sided status changes started at the student's own school (RULES.md §5)."""

from marshmallow import Schema, fields, validate

from . import Field, FormSpec, register

WITHDRAWAL_REASONS = (
    ("lost_ability", "丧失学习能力"),
    ("nine_years_completed", "年满16周岁且已完成九年义务教育"),
    ("personal", "本人（监护人）申请"),
    ("suspension_not_resumed", "休学期满未申请复学"),
)
CANCELLATION_REASONS = (
    ("death", "死亡"),
    ("lost_ability", "丧失学习能力"),
    ("abroad_not_returning", "出国（境）不再回国就读"),
)


def evidence_field(required: bool = True) -> fields.List:
    """A list of ids from POST /api/v1/files; the engine checks the caller may use them.

    Not `required` where only some answers need evidence: the form's schema asks for it then.
    """
    return fields.List(
        fields.Integer(strict=False, error_messages={"invalid": "附件编号必须是整数。"}),
        required=required,
        validate=validate.Length(min=1, error="请至少上传一份证明材料。"),
        error_messages={"required": "请上传证明材料。"},
    )


def _reason(choices):
    return fields.String(
        required=True,
        validate=validate.OneOf([c for c, _ in choices], error="原因不在可选范围内。"),
        error_messages={"required": "请选择原因。"},
    )


class WithdrawalSchema(Schema):
    reason = _reason(WITHDRAWAL_REASONS)
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()


class CancellationSchema(Schema):
    reason = _reason(CANCELLATION_REASONS)
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()


EVIDENCE = Field(
    "evidence", "证明材料", "files", required=True, help="PDF、JPEG 或 PNG，单个不超过 10 MB。"
)

WITHDRAWAL_APPLY = register(
    FormSpec(
        key="withdrawal_apply",
        title="退学申请",
        schema=WithdrawalSchema,
        fields=(
            Field("reason", "退学原因", "select", WITHDRAWAL_REASONS, required=True),
            Field("note", "说明", "textarea"),
            EVIDENCE,
        ),
    )
)

CANCELLATION_APPLY = register(
    FormSpec(
        key="cancellation_apply",
        title="注销学籍申请",
        schema=CancellationSchema,
        fields=(
            Field("reason", "注销原因", "select", CANCELLATION_REASONS, required=True),
            Field("note", "说明", "textarea"),
            EVIDENCE,
        ),
    )
)
