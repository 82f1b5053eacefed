"""What a step attaches: a note, and evidence files uploaded first (POST /api/v1/files)."""

from marshmallow import fields, validate

from . import Field


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


def optional_evidence() -> fields.List:
    """File ids from POST /api/v1/files; left out (not emptied) when nothing is uploaded."""
    return fields.List(
        fields.Integer(strict=False, error_messages={"invalid": "附件编号必须是整数。"})
    )


EVIDENCE = Field(
    "evidence", "证明材料", "files", required=True, help="PDF、JPEG 或 PNG，单个不超过 10 MB。"
)
OPTIONAL_EVIDENCE_HELP = "PDF、JPEG 或 PNG，单个不超过 10 MB；可不上传。"
NOTE = Field("note", "说明", "textarea")
