"""Forms of new-student registration (新生注册, RULES.md §5): the admitted list and its fix.

The list travels as row objects with the student-import columns (`xueji import
students`) plus an optional `deferral` column; the browser reads the same from a CSV or
XLSX file. Only the list's shape is checked here; every row's content is checked by the
handler `registration.check`, so that the school gets one problem list by row and field.
"""

from marshmallow import Schema, ValidationError, fields, validate

from . import Field, FormSpec, register
from .cohort import CohortSchema
from .evidence import OPTIONAL_EVIDENCE_HELP, optional_evidence

MAX_ROWS = 5000
MAX_CELL = 200  # characters; the longest student column is far shorter
MAX_SHAPE_ERRORS = 20
COLUMNS_HELP = (
    "CSV 或 XLSX 文件，列与学生导入（xueji import students）相同：id_number、name、gender、"
    "birth_date、school_code、grade、class_name、entry_year、household_code、guardian_name、"
    "guardian_phone；school_code 与 entry_year 可留空（取本次注册的学校和入学年份）。"
    "小学一年级新生入学时已满 7 周岁的，须在 deferral 列注明延缓入学的批准情况。"
    "高中、中职新生（市教育局统一录取）另填 report_by（录取通知书规定的报到截止日期）、"
    "reported_on（到校报到日期）；请假的在 leave 列注明。规定报到时间结束两周后仍未报到且未"
    "请假的，取消入学资格，不予注册（⑦ 第六条）。"
)


class RowsField(fields.Field):
    """A non-empty list (at most MAX_ROWS) of flat objects: column name → text or number."""

    default_error_messages = {
        "required": "请提供新生名单。",
        "null": "请提供新生名单。",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError("新生名单必须是行的列表：每行一个对象（列名 → 值）。")
        if not value:
            raise ValidationError("新生名单不能为空：至少一行。")
        if len(value) > MAX_ROWS:
            raise ValidationError(
                f"一次最多注册 {MAX_ROWS} 人，名单有 {len(value)} 行：请分批提交。"
            )
        problems: list[str] = []
        rows = []
        for number, row in enumerate(value, start=1):
            if not isinstance(row, dict):
                problems.append(f"第 {number} 行必须是对象（列名 → 值）。")
                continue
            for key, cell in row.items():
                if cell is not None and not isinstance(cell, str | int | float | bool):
                    problems.append(f"第 {number} 行“{key}”的值必须是文字或数字。")
                elif isinstance(cell, str) and len(cell) > MAX_CELL:
                    problems.append(f"第 {number} 行“{key}”的值过长（超过 {MAX_CELL} 个字符）。")
            rows.append({str(k): v for k, v in row.items()})
        if problems:
            more = len(problems) - MAX_SHAPE_ERRORS
            shown = problems[:MAX_SHAPE_ERRORS]
            raise ValidationError(shown + ([f"另有 {more} 处同类问题。"] if more > 0 else []))
        return rows


class RegistrationSchema(CohortSchema):
    rows = RowsField(required=True)


class RegistrationFixSchema(Schema):
    rows = RowsField(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = optional_evidence()  # what the county asked for when returning the list


ROWS_FIELD = Field("rows", "新生名单", "table", required=True, help=COLUMNS_HELP)

REGISTRATION_APPLY = register(
    FormSpec(
        key="registration_apply",
        title="提交新生注册名单",
        schema=RegistrationSchema,
        fields=(
            Field("school_code", "学校代码", required=True),
            Field(
                "entry_year",
                "入学年份",
                "number",
                required=True,
                help="本批新生的入学年份（秋季入学的年份）。",
            ),
            ROWS_FIELD,
        ),
    )
)

REGISTRATION_FIX = register(
    FormSpec(
        key="registration_fix",
        title="修改后重新提交新生名单",
        schema=RegistrationFixSchema,
        fields=(
            Field(
                "rows",
                "更正后的完整名单",
                "table",
                required=True,
                help="请按问题清单更正或删除有问题的行，重新提交完整名单；系统将重新逐行检查和查重。"
                + COLUMNS_HELP,
            ),
            Field("note", "修改说明", "textarea"),
            Field("evidence", "补充材料", "files", help=OPTIONAL_EVIDENCE_HELP),
        ),
    )
)
