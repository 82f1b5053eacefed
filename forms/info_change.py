"""Key-field change (学籍信息变更): the school's application (RULES.md §5).

The shape of a value is checked here (a 422 naming the field); whether the change is
allowed (GB 11643, one person one status) is the automatic check's job, so that a refusal
carries the rule's name.
"""

from __future__ import annotations

import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from . import Field, FormSpec, register
from .evidence import evidence_field

INFO_FIELDS = (
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "身份证号"),
)
INFO_FIELD_LABELS = dict(INFO_FIELDS)
GENDERS = (("M", "男"), ("F", "女"))
_GENDER_INPUT = {"M": "M", "F": "F", "男": "M", "女": "F"}
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NAME_MAX = 64


def normalise_value(field: str, raw: str) -> str:
    """The new value of `field` in its stored text form; ValidationError when misshapen."""
    value = (raw or "").strip()
    if field == "name":
        if not 1 <= len(value) <= NAME_MAX:
            raise ValidationError(f"新姓名应为 1–{NAME_MAX} 个字符。")
        return value
    if field == "gender":
        gender = _GENDER_INPUT.get(value.upper())
        if gender is None:
            raise ValidationError("新性别应为 M（男）或 F（女）。")
        return gender
    if field == "birth_date":
        try:
            day = date.fromisoformat(value) if _ISO_DATE.match(value) else None
        except ValueError:
            day = None
        if day is None:
            raise ValidationError("新出生日期应为有效日期，格式 YYYY-MM-DD，如 2015-03-10。")
        if day > date.today():
            raise ValidationError("新出生日期不能晚于今天。")
        return day.isoformat()
    if field == "id_number":
        number = re.sub(r"[\s-]", "", value).upper()
        if not _ID_SHAPE.match(number):
            raise ValidationError("新身份证号应为 18 位：前 17 位为数字，最后一位为数字或 X。")
        return number
    raise ValidationError("变更项目不在可选范围内。")


class InfoChangeSchema(Schema):
    field = fields.String(
        required=True,
        validate=validate.OneOf(
            [k for k, _ in INFO_FIELDS], error="变更项目只能是姓名、性别、出生日期或身份证号。"
        ),
        error_messages={"required": "请选择变更项目。"},
    )
    new_value = fields.String(required=True, error_messages={"required": "请填写变更后的内容。"})
    # Only with an ID-number change: the birth date and gender the new number encodes, when
    # they too were recorded wrongly (otherwise neither change alone could ever agree).
    birth_date = fields.Date(
        load_default=None,
        allow_none=True,
        error_messages={"invalid": "出生日期应为有效日期，格式 YYYY-MM-DD。"},
    )
    gender = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([k for k, _ in GENDERS], error="性别应为 M（男）或 F（女）。"),
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()

    @validates_schema(skip_on_field_errors=False)
    def value_shape(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        field = data.get("field")
        if field in INFO_FIELD_LABELS and "new_value" in data:
            try:
                normalise_value(field, data["new_value"])
            except ValidationError as exc:
                errors["new_value"] = exc.messages
        if field in INFO_FIELD_LABELS and field != "id_number":
            for name in ("birth_date", "gender"):
                if data.get(name) is not None:
                    errors[name] = ["只有变更身份证号时才能一并更正出生日期或性别。"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def normalise(self, data, **kwargs):
        data["new_value"] = normalise_value(data["field"], data["new_value"])
        return data


INFO_CHANGE_APPLY = register(
    FormSpec(
        key="info_change_apply",
        title="学籍信息变更申请",
        schema=InfoChangeSchema,
        fields=(
            Field("field", "变更项目", "select", INFO_FIELDS, required=True),
            Field(
                "new_value",
                "变更后的内容",
                required=True,
                help="姓名 1–64 个字符；性别填 M（男）或 F（女）；出生日期如 2015-03-10；"
                "身份证号 18 位。须与户口簿一致。",
            ),
            Field(
                "birth_date",
                "一并更正出生日期",
                "date",
                help="仅在变更身份证号、且学籍记录中的出生日期也有误时填写。",
            ),
            Field(
                "gender",
                "一并更正性别",
                "select",
                GENDERS,
                help="仅在变更身份证号、且学籍记录中的性别也有误时填写。",
            ),
            Field("note", "说明", "textarea"),
            Field(
                "evidence",
                "户口簿页",
                "files",
                required=True,
                help="户口簿首页及本人页扫描件，PDF、JPEG 或 PNG，单个不超过 10 MB。",
            ),
        ),
    )
)
