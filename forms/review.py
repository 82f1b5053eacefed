"""The standard review step: approve, reject or return, with a comment when not approving."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from . import Field, FormSpec, register

DECISIONS = (("approve", "同意"), ("reject", "不同意（终止办理）"), ("return", "退回学校修改"))
# Suspension: the county may order a re-examination at a designated hospital (RULES.md §2).
REEXAMINE_DECISIONS = (*DECISIONS, ("reexamine", "要求到指定医院复查"))


def decision_field(choices) -> fields.String:
    names = "、".join(label.split("（")[0] for _, label in choices)
    return fields.String(
        required=True,
        validate=validate.OneOf([d for d, _ in choices], error=f"审核意见必须是{names}之一。"),
        error_messages={"required": "请选择审核意见。"},
    )


# Returning a case, the reviewer may name what the applicant should attach; the correction
# step shows it (and every correction step takes uploads).
REQUESTED_DOCUMENTS = Field(
    "requested_documents",
    "要求补充的材料",
    "textarea",
    help="退回修改或要求复查时可填写，例如“户口簿首页及本人页复印件”；学校修改时可见。",
)


class ReviewSchema(Schema):
    comment_required = "不同意或退回时必须填写理由。"
    decision = decision_field(DECISIONS)
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
    requested_documents = fields.String(
        load_default="",
        validate=validate.Length(max=500, error="要求补充的材料最多 500 个字。"),
    )

    @validates_schema
    def comment_when_not_approving(self, data, **kwargs):
        if data.get("decision") != "approve" and not data.get("comment", "").strip():
            raise ValidationError(self.comment_required, field_name="comment")


def _returns(decisions) -> bool:
    return any(d in ("return", "reexamine") for d, _ in decisions)


def review_form(
    key: str,
    title: str,
    decisions=DECISIONS,
    comment_required: str = ReviewSchema.comment_required,
    comment_help: str = "不同意或退回时必填。",
    decision_label: str = "审核意见",
    tables: tuple[str, ...] = (),
) -> FormSpec:
    """Register a review step with its own choices: the comment is required unless approving."""
    schema = type(
        f"{key.title().replace('_', '')}Schema",
        (ReviewSchema,),
        {"comment_required": comment_required, "decision": decision_field(decisions)},
    )
    return register(
        FormSpec(
            key=key,
            title=title,
            schema=schema,
            fields=(
                Field("decision", decision_label, "radio", decisions, required=True),
                Field("comment", "意见说明", "textarea", help=comment_help),
                *((REQUESTED_DOCUMENTS,) if _returns(decisions) else ()),
            ),
            tables=tables,
        )
    )


REVIEW = review_form("review", "审核")
REVIEW_REEXAMINE = review_form(
    "review_reexamine",
    "审核（可要求复查）",
    REEXAMINE_DECISIONS,
    "不同意、退回或要求复查时必须填写理由。",
    "不同意、退回或要求复查时必填。",
)
# An automatic check before the record changes failed on what the applicant typed (a class
# now full, a date): the reviewer returns the case for correction or ends it.
RECHECK_FAILED = review_form(
    "recheck_failed",
    "复核未通过的处理",
    (("return", "退回学校修改"), ("reject", "不予办理（终止办理）")),
    "退回或终止办理时必须填写理由。",
    "必填：告诉学校要改什么，或为何终止办理。",
    "处理意见",
)
