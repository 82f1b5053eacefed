"""API routes for taking back, handing over and talking (issue 16): withdraw an application,
comment on an instance, a lead's handing over of a task. Thin views over the engine, on the
API blueprint; their OpenAPI operations are here too, beside the routes they describe.
"""

from __future__ import annotations

from workflows import engine, jurisdiction

from ..json_errors import ApiError
from . import bp, schemas
from .auth import current_user
from .requests import AssignIn, CommentIn, WithdrawIn
from .routes import _body, _instance_out


@bp.post("/instances/<int:instance_id>/withdraw")
def withdraw_instance(instance_id: int):
    """The applying organisation withdraws (撤销) its application before the last review."""
    if jurisdiction.instance_or_none(current_user(), instance_id) is None:
        raise ApiError(404)
    body = _body(WithdrawIn)
    return _instance_out(engine.withdraw(instance_id, current_user(), body["comment"]))


@bp.post("/instances/<int:instance_id>/comments")
def comment_instance(instance_id: int):
    """A comment in the instance's history (decision "comment") by anyone who sees it."""
    if jurisdiction.instance_or_none(current_user(), instance_id) is None:
        raise ApiError(404)
    body = _body(CommentIn)
    event = engine.add_comment(instance_id, current_user(), body["text"])
    return schemas.StepOut().dump(event), 201


@bp.post("/tasks/<int:task_id>/assign")
def assign_task(task_id: int):
    """The organisation's lead hands an open task to a colleague who may do it."""
    body = _body(AssignIn)
    return schemas.TaskOut().dump(engine.assign(task_id, current_user(), body["username"]))


INPUT_SCHEMAS = (WithdrawIn, CommentIn, AssignIn)


def _operation(summary: str, param: str, body: str, ok: tuple[str, str, str], errors) -> dict:
    status, description, schema = ok
    return {
        "summary": summary,
        "parameters": [
            {"in": "path", "name": param, "required": True, "schema": {"type": "integer"}}
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        },
        "responses": {
            status: {
                "description": description,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            },
            **{code: {"$ref": f"#/components/responses/E{code}"} for code in errors},
        },
    }


OPERATIONS = {
    "api.withdraw_instance": (
        "post",
        _operation(
            "发起单位撤销申请（须在全部审核办结之前）；业务终止为 cancelled",
            "instance_id",
            "WithdrawIn",
            ("200", "业务已撤销（cancelled，reason 为 withdrawn）", "InstanceOut"),
            ("400", "401", "404", "409", "422"),
        ),
    ),
    "api.comment_instance": (
        "post",
        _operation(
            "在业务办理历史中留言（不作决定；能查看该业务的人均可留言）",
            "instance_id",
            "CommentIn",
            ("201", "留言，即历史中的一行（decision 为 comment）", "StepOut"),
            ("400", "401", "404", "422"),
        ),
    ),
    "api.assign_task": (
        "post",
        _operation(
            "（本单位负责人）将待办任务转交给本单位可办理该步骤的同事",
            "task_id",
            "AssignIn",
            ("200", "任务，已由该同事认领", "TaskOut"),
            ("400", "401", "403", "404", "409", "422"),
        ),
    ),
}
