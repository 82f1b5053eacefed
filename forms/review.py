"""The standard review step: approve, reject or return, with a comment when not approving."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from . import Field, FormSpec, register

DECISIONS = (("approve", "同意"), ("reject", "不同意（终止办理）"), ("return", "退回学校修改"))


class ReviewSchema(Schema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(
            [d for d, _ in DECISIONS], error="审核意见必须是同意、不同意或退回。"
        ),
        error_messages={"required": "请选择审核意见。"},
    )
    comment = fields.String(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def comment_when_not_approving(self, data, **kwargs):
        if data.get("decision") in ("reject", "return") and not data.get("comment", "").strip():
            raise ValidationError("不同意或退回时必须填写理由。", field_name="comment")


REVIEW = register(
    FormSpec(
        key="review",
        title="审核",
        schema=ReviewSchema,
        fields=(
            Field("decision", "审核意见", "radio", DECISIONS, required=True),
            Field("comment", "意见说明", "textarea", help="不同意或退回时必填。"),
        ),
    )
)
