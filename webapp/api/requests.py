"""What the API takes: JSON bodies and query strings, each refusing what it does not know
in Chinese and naming the field."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from webapp import finding
from webapp.guard import MAX_PAGE
from webapp.models import MAX_ID
from webapp.models.vocabulary import PROCEDURES
from workflows.desk import MAX_COMMENT

PROCEDURE_KEYS = tuple(PROCEDURES)
INSTANCE_STATUSES = finding.INSTANCE_STATUSES
MAX_PER_PAGE = 100


class BodyIn(Schema):
    """A JSON body: unknown keys are refused in Chinese, not silently dropped."""

    error_messages = {"unknown": "不支持的字段。", "type": "请求数据必须是 JSON 对象。"}


class ModelIn(BodyIn):
    variant = fields.String(load_default="default", validate=validate.Length(min=1, max=32))
    bpmn_xml = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2_000_000),
        error_messages={"required": "请提供 BPMN 内容（bpmn_xml）。"},
    )
    dmn = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(r"^[\w.-]+\.dmn$", error="决策表文件名须以 .dmn 结尾。")
        ),
        values=fields.String(),
        load_default=dict,
    )
    segments = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(
                r"^[A-Za-z_][\w-]*$", error="子流程 id 须为调用活动的 calledElement。"
            )
        ),
        values=fields.String(validate=validate.Length(min=1, max=2_000_000)),
        load_default=dict,
        metadata={
            "description": "子流程（调用活动调用的流程）：{子流程 id: BPMN}。未提供的沿用该变体"
            "最新版本的，再无则用随平台发布的文件"
        },
    )


class TokenIn(BodyIn):
    username = fields.String(required=True, error_messages={"required": "请填写用户名。"})
    password = fields.String(required=True, error_messages={"required": "请填写密码。"})


class PageQuery(Schema):
    class Meta:
        unknown = EXCLUDE  # a query string may carry unrelated parameters (cache busting)

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(
            min=1, max=MAX_PAGE, error=f"页码必须是 1 到 {MAX_PAGE} 之间的整数。"
        ),
        error_messages={"invalid": "页码必须是整数。"},
    )
    per_page = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, error="每页条数必须是不小于 1 的整数。"),
        error_messages={"invalid": "每页条数必须是整数。"},
        metadata={"description": f"每页条数，最多 {MAX_PER_PAGE}（更大的值按 {MAX_PER_PAGE} 计）"},
    )


class StudentQuery(PageQuery, finding.StudentFilters):
    """The student list's page, search and filters (grade, class, status)."""


class InstanceQuery(PageQuery, finding.InstanceFilters):
    """业务查询's page and filters (procedure, status, school, student, dates)."""


class TaskQuery(PageQuery, finding.TaskFilters):
    """The inbox's page, filters and order (most urgent first by default)."""


class InstanceIn(BodyIn):
    procedure = fields.String(
        required=True,
        validate=validate.OneOf(PROCEDURE_KEYS, error="业务类型不存在。"),
        error_messages={"required": "请填写业务类型。"},
    )
    student_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_ID, error="学生不存在。"),
        error_messages={"invalid": "学生编号必须是整数。"},
        metadata={"description": "由学生所在学校发起的业务填写；转学等由对方发起的业务不填"},
    )
    data = fields.Dict(
        load_default=dict,
        error_messages={"invalid": "业务数据必须是 JSON 对象。"},
        metadata={"description": "发起表单的数据，见 components.schemas 中各业务的发起表单"},
    )
    dry_run = fields.Boolean(
        load_default=False,
        error_messages={"invalid": "dry_run 须为 true 或 false。"},
        metadata={"description": "true：只运行发起后的自动检查，返回结果，不创建业务"},
    )


def _text_in(name: str, field: str, label: str) -> type[BodyIn]:
    """A body of one required text of 1 to MAX_COMMENT characters, its refusals naming
    `label`; `name` is the schema's name in the OpenAPI document."""
    text = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=MAX_COMMENT, error=f"{label}须为 1 到 {MAX_COMMENT} 个字。"
        ),
        error_messages={"required": f"请填写{label}。"},
    )
    return BodyIn.from_dict({field: text}, name=name)


RefuseIn = _text_in("RefuseIn", "comment", "拒绝理由")
WithdrawIn = _text_in("WithdrawIn", "comment", "撤销理由")
CommentIn = _text_in("CommentIn", "text", "留言内容")


class AssignIn(BodyIn):
    username = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64, error="用户名须为 1 到 64 个字符。"),
        error_messages={"required": "请填写转交给的用户名。"},
        metadata={"description": "本单位可办理该步骤的同事"},
    )


class CompleteIn(BodyIn):
    data = fields.Dict(
        load_default=dict,
        error_messages={"invalid": "表单数据必须是 JSON 对象。"},
        metadata={"description": "该步骤表单的数据，表单结构见 GET /tasks/{id}"},
    )


# -- output ---------------------------------------------------------------------------------
