"""What the cohort procedures (graduation, registration) ask first: which school's cohort."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate


def _plausible_entry_year(year: int) -> None:
    """Checked against today's year at each call: a long-running worker sees the new year."""
    this_year = date.today().year
    if not 1990 <= year <= this_year:
        raise ValidationError(f"入学年份应在 1990 到 {this_year} 之间。")


class CohortSchema(Schema):
    school_code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        error_messages={"required": "请填写学校代码。"},
    )
    entry_year = fields.Integer(
        required=True,
        strict=False,
        validate=_plausible_entry_year,
        error_messages={"required": "请填写入学年份（年级）。", "invalid": "入学年份必须是整数。"},
    )
