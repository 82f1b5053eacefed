"""Marshmallow schemas of the API: records out (requests in: `requests.py`, named here too).

The output schemas dump model objects directly, and the same classes generate the
OpenAPI document, so the document cannot drift from what the views answer.
"""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, post_dump

from forms import FORMS
from webapp.extensions import db
from webapp.models import Organization, utcnow
from webapp.paging import COUNT_BOUND
from workflows import identity

from .record_schemas import (  # noqa: F401  (the OpenAPI document lists them from here)
    CertificateOut,
    StatusChangeOut,
    StudentList,
    StudentOut,
    UtcDateTime,
)
from .requests import (  # noqa: F401  (the views and the OpenAPI document take both from here)
    INSTANCE_STATUSES,
    MAX_PER_PAGE,
    PROCEDURE_KEYS,
    BodyIn,
    CompleteIn,
    InstanceIn,
    InstanceQuery,
    ModelIn,
    PageQuery,
    RefuseIn,
    StudentQuery,
    TaskQuery,
    TokenIn,
)


class VersionOut(Schema):
    version = fields.Integer()
    created_at = UtcDateTime()
    created_by = fields.Function(lambda v: v.created_by.username if v.created_by else None)
    content_hash = fields.String()
    segments = fields.Function(
        lambda v: sorted(v.segments or {}),
        metadata={"description": "该版本调用的子流程 id"},
    )


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "中文说明"})
    field_errors = fields.Raw(
        data_key="fields",
        metadata={
            "description": "字段 → 中文错误说明列表；部署流程模型被拒时为 [{element, message}]",
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "element": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            ],
        },
    )


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody, required=True)


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String(attribute="label")
    role = fields.String()
    org_code = fields.Function(lambda u: u.org.code)
    org_name = fields.Function(lambda u: u.org.name)


class TokenOut(Schema):
    token = fields.String()
    expires_in = fields.Integer(metadata={"description": "有效秒数"})
    user = fields.Nested(UserOut)


class FileOut(Schema):
    id = fields.Integer()
    name = fields.String()
    size = fields.Integer()
    content_type = fields.String()


class RefusalOut(Schema):
    rule = fields.String(allow_none=True, metadata={"description": "规则编号"})
    title = fields.String(metadata={"description": "规则的中文名称"})
    message = fields.String()
    fields_ = fields.List(
        fields.String(),
        data_key="fields",
        attribute="fields",
        metadata={"description": "涉及的表单字段"},
    )


class DryRunOut(Schema):
    """A dry run's answer: nothing was created."""

    ok = fields.Boolean(required=True)
    refusals = fields.List(fields.Nested(RefusalOut), required=True)


class ProcedureOut(Schema):
    key = fields.String()
    name = fields.String()
    version = fields.Integer(allow_none=True, metadata={"description": "最新部署的版本号"})


class ProcedureList(Schema):
    items = fields.List(fields.Nested(ProcedureOut))
    total = fields.Integer()


class CurrentTaskOut(Schema):
    id = fields.Integer()
    name = fields.String()
    step = fields.String()
    lane = fields.String()
    org_code = fields.Function(lambda t: t.org.code, metadata={"type": "string", "nullable": True})


class StepOut(Schema):
    """One row of an instance's history; `by` is null for an automatic step."""

    step = fields.String()
    name = fields.String()
    by = fields.Function(lambda e: e.user.label if e.user else None)
    org_code = fields.Function(lambda e: e.org.code if e.org else None)
    at = UtcDateTime()
    decision = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)


class InstanceSummaryOut(Schema):
    id = fields.Integer()
    procedure = fields.String()
    version = fields.Function(lambda i: i.process_version.version)
    status = fields.String(metadata={"enum": list(INSTANCE_STATUSES)})
    student_id = fields.Integer(allow_none=True)
    student_name = fields.Function(lambda i: i.student.name if i.student else None)
    current_tasks = fields.Function(
        lambda i: CurrentTaskOut(many=True).dump([t for t in i.tasks if t.state == "open"]),
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/CurrentTaskOut"}},
    )
    variant = fields.String()
    reason = fields.String(allow_none=True)
    reason_message = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)
    wake_at = UtcDateTime(
        allow_none=True, metadata={"description": "a waiting timer falls due (UTC)"}
    )

    @post_dump(pass_original=True)
    def _hide_sending_side(self, out: dict, instance, **kwargs) -> dict:
        """A start by ID number tells the taking school nothing of where the pupil is until
        the pupil's school approves (`workflows.identity`): no code, no name, no school id."""
        codes = _hidden_codes(instance)
        if not codes:
            return out
        for task in out.get("current_tasks") or []:
            if task["org_code"] in codes:
                task["org_code"] = None
        _hide_steps(out.get("history") or [], codes)
        if "data" in out:
            out["data"] = _data_shown(instance)
        return out


def _hidden_codes(instance) -> set[str]:
    hidden = identity.hidden_orgs(instance, g.get("api_user"))
    if not hidden:
        return set()
    return {db.session.get(Organization, i).code for i in hidden}  # read by the lineage


def _hide_steps(steps: list[dict], codes: set[str]) -> list[dict]:
    for step in steps:
        if step.get("org_code") in codes:
            step["org_code"] = step["by"] = None
    return steps


def _data_shown(instance) -> dict:
    data = instance.data or {}
    if not identity.hidden_orgs(instance, g.get("api_user")):
        return data
    return {k: v for k, v in data.items() if k != "from_school_id"}


def _steps_shown(instance) -> list[dict]:
    return _hide_steps(StepOut(many=True).dump(instance.events), _hidden_codes(instance))


class InstanceOut(InstanceSummaryOut):
    history = fields.List(fields.Nested(StepOut), attribute="events")
    data = fields.Dict()


class InstanceList(Schema):
    items = fields.List(fields.Nested(InstanceSummaryOut))
    total = fields.Integer()
    total_capped = fields.Boolean(
        metadata={
            "description": f"present (true) when more than {COUNT_BOUND} match; total then says {COUNT_BOUND}"
        }
    )


class TaskOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    procedure = fields.Function(lambda t: t.instance.procedure)
    step = fields.String()
    name = fields.String()
    lane = fields.String()
    state = fields.String(metadata={"enum": ["open", "completed", "cancelled"]})
    student_name = fields.Function(
        lambda t: t.instance.student.name if t.instance.student else None
    )
    created_at = UtcDateTime()
    due_at = UtcDateTime(allow_none=True)
    overdue = fields.Function(
        lambda t: t.state == "open" and t.due_at is not None and t.due_at < utcnow(),
        metadata={"type": "boolean"},
    )
    claimed_by = fields.Function(lambda t: t.claimed_by.username if t.claimed_by else None)
    claimed_at = UtcDateTime(allow_none=True, metadata={"description": "认领（或被转交）的时间"})


class TaskList(Schema):
    items = fields.List(fields.Nested(TaskOut))
    total = fields.Integer()
    total_capped = fields.Boolean(
        metadata={
            "description": f"present (true) when more than {COUNT_BOUND} match; total then says {COUNT_BOUND}"
        }
    )


class ChoiceOut(Schema):
    value = fields.String()
    label = fields.String()


class FormFieldOut(Schema):
    name = fields.String()
    label = fields.String()
    widget = fields.String(
        metadata={"enum": ["text", "textarea", "number", "select", "radio", "date"]}
    )
    choices = fields.Function(lambda f: [{"value": v, "label": label} for v, label in f.choices])
    required = fields.Boolean()
    help = fields.String()


class FormOut(Schema):
    key = fields.String()
    title = fields.String()
    form_fields = fields.List(fields.Nested(FormFieldOut), data_key="fields", attribute="fields")


class TaskDetailOut(TaskOut):
    form = fields.Method("_form", metadata={"allOf": [{"$ref": "#/components/schemas/FormOut"}]})
    instance_status = fields.Function(lambda t: t.instance.status)
    data = fields.Function(lambda t: _data_shown(t.instance), metadata={"type": "object"})
    history = fields.Function(
        lambda t: _steps_shown(t.instance),
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/StepOut"}},
    )

    def _form(self, task) -> dict:
        return FormOut().dump(FORMS[task.form_key])


class SegmentDiagramOut(Schema):
    id = fields.String(metadata={"description": "子流程 id（调用活动的 calledElement）"})
    name = fields.String(metadata={"description": "子流程名称"})
    bpmn_xml = fields.String()
    completed = fields.List(fields.String(), metadata={"description": "子流程中已完成的元素 id"})
    active = fields.List(fields.String(), metadata={"description": "子流程中待办步骤的元素 id"})
    failed = fields.List(fields.String(), metadata={"description": "子流程中出错的元素 id"})
    rejected = fields.List(fields.String(), metadata={"description": "子流程中审核不同意的步骤"})
    lanes = fields.Dict(keys=fields.String(), values=fields.String())


class DiagramOut(Schema):
    bpmn_xml = fields.String()
    completed = fields.List(fields.String(), metadata={"description": "已完成的元素 id"})
    active = fields.List(fields.String(), metadata={"description": "待办步骤的元素 id"})
    failed = fields.List(fields.String(), metadata={"description": "出错的元素 id"})
    rejected = fields.List(
        fields.String(), metadata={"description": "审核不同意的步骤和“不予办理”结束事件的元素 id"}
    )
    lanes = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "泳道 id → 在该泳道办理的单位名称"},
    )
    segments = fields.List(
        fields.Nested(SegmentDiagramOut),
        metadata={
            "description": "流程调用的子流程（调用活动），按调用顺序；各自只列本子流程的元素。"
            "上面各列表已包含子流程中的元素"
        },
    )
