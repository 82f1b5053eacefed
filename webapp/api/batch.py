"""API routes for batch work (issue 16 point 3): complete many tasks of one step with one
decision, start a 复学 for several students. Each item is its own transaction
(`workflows.batch`); the answer is 200 with one line per item, done or refused and why.
Their OpenAPI operations and schemas are here too, beside the routes they describe.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from webapp.models import MAX_ID
from workflows import batch

from . import bp
from .auth import current_user
from .requests import BodyIn
from .routes import _body

_ID = fields.Integer(
    strict=True,
    validate=validate.Range(1, MAX_ID, error="编号必须是正整数。"),
    error_messages={"invalid": "编号必须是整数。"},
)
_IDS = {
    "required": True,
    "validate": validate.Length(
        min=1, max=batch.MAX_BATCH, error=f"须选择 1 到 {batch.MAX_BATCH} 项。"
    ),
    "error_messages": {"required": "请列出要办理的编号。", "invalid": "编号须为整数列表。"},
}


class BatchCompleteIn(BodyIn):
    task_ids = fields.List(_ID, **_IDS, metadata={"description": "同一步骤的待办任务编号"})
    data = fields.Dict(
        load_default=dict,
        error_messages={"invalid": "表单数据必须是 JSON 对象。"},
        metadata={"description": "该步骤表单的数据（每项任务相同），如 {decision, comment}"},
    )


class ResumptionsIn(BodyIn):
    student_ids = fields.List(_ID, **_IDS, metadata={"description": "休学期满的本校学生编号"})
    data = fields.Dict(
        load_default=dict,
        error_messages={"invalid": "表单数据必须是 JSON 对象。"},
        metadata={
            "description": "复学申请的 resume_date、note、evidence；年级和班级按各生原年级、原班级"
        },
    )


class BatchItemOut(Schema):
    task_id = fields.Integer(metadata={"description": "批量办理时"})
    student_id = fields.Integer(metadata={"description": "批量发起时"})
    status = fields.String(metadata={"enum": ["done", "refused"]})
    error = fields.String(metadata={"description": "未办理的原因（中文）"})
    code = fields.String(
        metadata={"enum": ["not_found", "conflict", "forbidden", "invalid", "rejected"]}
    )
    fields_ = fields.Dict(data_key="fields", metadata={"description": "逐字段的错误"})
    instance_id = fields.Integer()
    instance_status = fields.String()


class BatchOut(Schema):
    items = fields.List(fields.Nested(BatchItemOut))


@bp.post("/tasks/complete")
def complete_tasks():
    """Complete several tasks of one step with the same data, each in its own transaction."""
    body = _body(BatchCompleteIn)
    report = batch.complete_many(body["task_ids"], current_user(), body["data"])
    return {"items": [o.as_dict("task_id") for o in report]}


@bp.post("/resumptions")
def start_resumptions():
    """A school starts a 复学 for several of its students whose suspension has ended."""
    body = _body(ResumptionsIn)
    report = batch.start_resumptions(body["student_ids"], current_user(), body["data"])
    return {"items": [o.as_dict("student_id") for o in report]}


INPUT_SCHEMAS = (BatchCompleteIn, ResumptionsIn)
OUTPUT_SCHEMAS = (BatchItemOut, BatchOut)


def _operation(summary: str, body: str, description: str) -> dict:
    return {
        "summary": summary,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        },
        "responses": {
            "200": {
                "description": description,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/BatchOut"}}
                },
            },
            **{code: {"$ref": f"#/components/responses/E{code}"} for code in ("400", "401", "422")},
        },
    }


OPERATIONS = {
    "api.complete_tasks": (
        "post",
        _operation(
            "批量办理同一步骤的多项任务（同一决定和意见），每项单独提交，一项未办理不影响其他项；"
            f"最多 {batch.MAX_BATCH} 项；所选任务属于不同步骤或数据不符合该步骤表单时整批 422",
            "BatchCompleteIn",
            "逐项结果：done，或 refused 及原因（不在办理范围内的编号报 not_found）",
        ),
    ),
    "api.start_resumptions": (
        "post",
        _operation(
            "为本校多名休学期满的学生一次发起复学，每名学生单独发起（各回原年级、原班级）",
            "ResumptionsIn",
            "逐名学生结果：done（instance_id），或 refused 及原因",
        ),
    ),
}
