"""The end of a borrow-study (借读结束, 返回原校): what the host school recorded (RULES.md §3)."""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from . import Field, FormSpec, register
from .evidence import OPTIONAL_EVIDENCE_HELP, optional_evidence
from .validators import DATE_ERRORS, iso_dates


class BorrowReturnSchema(Schema):
    end_date = fields.Date(
        required=True,
        error_messages={"required": "请填写借读结束（返回原校）日期。", **DATE_ERRORS},
    )
    results = fields.String(
        required=True,
        validate=validate.Length(min=1, max=4000, error="借读期间记录不能为空，最多 4000 字。"),
        error_messages={"required": "请填写借读期间的成绩、评定和奖惩记录。"},
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = optional_evidence()

    @validates_schema
    def results_not_blank(self, data, **kwargs):
        if "results" in data and not data["results"].strip():
            raise ValidationError("请填写借读期间的成绩、评定和奖惩记录。", field_name="results")

    @post_load
    def dates_as_text(self, data, **kwargs):
        data["results"] = data["results"].strip()
        return iso_dates(data, "end_date")


BORROW_RETURN_APPLY = register(
    FormSpec(
        key="borrow_return_apply",
        title="借读结束（返回原校）",
        schema=BorrowReturnSchema,
        fields=(
            Field("end_date", "借读结束日期", "date", required=True),
            Field(
                "results",
                "借读期间成绩、评定和奖惩",
                "textarea",
                required=True,
                help="由借读学校记录的学业成绩、综合评定、奖励和处分，将随学籍档案带回原校。",
            ),
            Field("note", "说明", "textarea"),
            Field("evidence", "借读学校成绩单等材料", "files", help=OPTIONAL_EVIDENCE_HELP),
        ),
    )
)
