"""What withdrawal (退学) and cancellation (注销) ask alike: a reason, a note, evidence."""

from marshmallow import Schema, fields, validate

from . import Field, FormSpec, register
from .evidence import EVIDENCE, NOTE, evidence_field


def reason_field(choices) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf([c for c, _ in choices], error="原因不在可选范围内。"),
        error_messages={"required": "请选择原因。"},
    )


def leaving_schema(name: str, choices) -> type[Schema]:
    """The schema of a leaving procedure with its own reasons."""
    return Schema.from_dict(
        {
            "reason": reason_field(choices),
            "note": fields.String(load_default="", validate=validate.Length(max=1000)),
            "evidence": evidence_field(),
        },
        name=name,
    )


def leaving_form(
    key: str, title: str, reason_label: str, schema: type[Schema], choices, extra=()
) -> FormSpec:
    """Register the application of a leaving procedure: reason, the `extra` fields some
    reasons ask, note, evidence."""
    return register(
        FormSpec(
            key=key,
            title=title,
            schema=schema,
            fields=(
                Field("reason", reason_label, "select", choices, required=True),
                *extra,
                NOTE,
                EVIDENCE,
            ),
        )
    )
