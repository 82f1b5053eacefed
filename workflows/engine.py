"""The engine façade: start an instance, complete a step, claim and release, load and save.

Every public verb runs in one database transaction: the workflow state, the open
human-task rows, the history and any record change commit together or not at all.
Concurrent completions of one task are decided by a conditional UPDATE on the task row
(first writer wins) and by the instance's version counter.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

from marshmallow import ValidationError
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

import handlers
from forms import FORMS
from webapp import scope
from webapp.extensions import db
from webapp.guard import MAX_ID
from webapp.models import (
    FileUpload,
    HumanTask,
    Incident,
    Instance,
    InstanceEvent,
    Organization,
    ProcessVersion,
    User,
    audit,
    utcnow,
)

from . import deploy, identity, jobs, notices, routing, segments, starters, variants, workdays
from .errors import Conflict, Forbidden, Invalid, NotFound
from .procedures import PROCEDURES
from .scripting import SAFE_BUILTINS
from .specs import SERIALIZER, ParsedModel, end_outcome

REVIEW_DAYS = 10
# Timers whose due time SpiffWorkflow keeps as ISO text (cycle timers are not used).
TIMER_EVENTS = ("TimeDateEventDefinition", "DurationTimerEventDefinition")


class _Run:
    """What a handler call needs to know about the current engine run."""

    def __init__(self, instance: Instance, user):
        self.instance = instance
        self.user = user
        self.step: str | None = None  # the handler running now, named in an incident


class _HandlerEnvironment(TaskDataEnvironment):
    def __init__(self, run: _Run):
        super().__init__({"__builtins__": SAFE_BUILTINS})
        self.run = run

    def call_service(self, context, operation_name, operation_params, **kwargs):
        fn = handlers.HANDLERS[operation_name]
        self.run.step = operation_name
        result = fn(handlers.Context(self.run.instance, self.run.user, context))
        return json.dumps(result, default=str)


class _ScriptEngine(PythonScriptEngine):
    def call_service(self, task, **kwargs):
        # SpiffWorkflow 3.2.0 hides handler errors behind NameError('script'): call directly.
        return self.environment.call_service(task.data, **kwargs)


def _script_engine(instance: Instance, user) -> _ScriptEngine:
    handlers.load_all()
    return _ScriptEngine(environment=_HandlerEnvironment(_Run(instance, user)))


# -- persistence ---------------------------------------------------------------------------


def _dump_state(wf: BpmnWorkflow) -> str:
    """The workflow's state without its spec, which is stored once per version."""
    state = json.loads(SERIALIZER.serialize_json(wf))
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    return json.dumps(state, ensure_ascii=False)


# Deployed versions never change (a change is a new version), so each process keeps the
# parsed model and the spec text of every version it has run, keyed by id and content.
_VERSIONS: dict[tuple[int, str], tuple[ParsedModel, str]] = {}


def _version_model(instance: Instance) -> tuple[ParsedModel, str]:
    """The instance's own version: parsed model and spec JSON, read from the row once."""
    version = instance.process_version
    key = (version.id, version.content_hash)
    model = _VERSIONS.get(key)
    if model is None:
        parsed = deploy.parsed(version)
        model = _VERSIONS[key] = (parsed, version.spec_json)
    return model


def load(instance: Instance, user) -> BpmnWorkflow:
    """The running workflow from the stored state (parsed once) and the version's spec."""
    state = json.loads(instance.state)
    state.update(json.loads(_version_model(instance)[1]))
    SERIALIZER.migrate(state)
    wf = SERIALIZER.from_dict(state)
    wf.script_engine = _script_engine(instance, user)
    return wf


def _json_safe(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


# -- running --------------------------------------------------------------------------------


def _record_automatic(instance: Instance):
    def did_complete(task):
        spec = task.task_spec
        if getattr(spec, "operation_name", None) is None:
            return
        result = task.data.get(spec.result_variable) or {}
        decision = None
        if "ok" in result:
            decision = "pass" if result["ok"] else "fail"
        db.session.add(
            InstanceEvent(
                instance_id=instance.id,
                step=spec.bpmn_id,
                name=spec.bpmn_name or spec.bpmn_id,
                decision=decision,
                comment=result.get("message"),
            )
        )

    return did_complete


def _advance(instance: Instance, wf: BpmnWorkflow) -> None:
    """Run the automatic steps now, or, with background workers, queue them for a worker."""
    if jobs.enabled():
        if wf.get_tasks(state=TaskState.READY, manual=False):
            instance.pending_since = utcnow()
            jobs.enqueue_after_commit(instance.id)
        return
    _run_automatic(instance, wf)


def _run_automatic(instance: Instance, wf: BpmnWorkflow) -> None:
    wf.refresh_timers()
    wf.do_engine_steps(did_complete_task=_record_automatic(instance))


def _save(instance: Instance, wf: BpmnWorkflow, user) -> None:
    """Write state, status, data and the open human-task rows for this instance."""
    instance.state = _dump_state(wf)
    instance.wake_at = _next_timer(wf)
    last = segments.last_data(wf)
    instance.data = _json_safe(last)
    if wf.is_completed():
        outcome = next(
            (
                end_outcome(t.task_spec.bpmn_id)
                for t in wf.get_tasks(state=TaskState.COMPLETED)
                if end_outcome(t.task_spec.bpmn_id or "")
            ),
            "completed",
        )
        instance.status = outcome
        instance.finished_at = utcnow()
        instance.open_student_id = None
        if outcome == "rejected":
            check = last.get("check") or {}
            if last.get("decision") == "reject":  # a person's decision, kept in the data
                instance.reason = "reviewer_rejected"
                instance.reason_message = last.get("comment")
            elif check.get("rule"):
                instance.reason = check["rule"]
                instance.reason_message = check.get("message")
            notices.rejected(instance)
    _sync_tasks(instance, wf)


def _next_timer(wf: BpmnWorkflow) -> datetime | None:
    """When the earliest timer the workflow waits on falls due, as naive UTC (None: no timer)."""
    due = [
        datetime.fromisoformat(event.value).astimezone(UTC).replace(tzinfo=None)
        for event in wf.waiting_events()
        if event.event_type in TIMER_EVENTS and event.value
    ]
    return min(due, default=None)


def _sync_tasks(instance: Instance, wf: BpmnWorkflow) -> None:
    ready = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}
    open_rows = HumanTask.query.filter_by(instance_id=instance.id, state="open").all()
    for row in open_rows:
        if row.task_uuid not in ready:
            row.state = "cancelled"
    known = {row.task_uuid for row in open_rows}
    now = utcnow()
    new_rows = []
    for uuid, task in ready.items():
        if uuid in known:
            continue
        slot = task.task_spec.lane
        org = routing.resolve(slot, task.data)
        props = task.task_spec.extensions.get("properties", {})
        due_days = int(props.get("dueDays", REVIEW_DAYS))  # working days, official calendar
        new_rows.append(
            HumanTask(
                instance_id=instance.id,
                task_uuid=uuid,
                step=task.task_spec.bpmn_id,
                name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                lane=slot,
                form_key=props["formKey"],
                org_id=org.id,
                role=routing.slot_role(slot),
                created_at=now,
                due_at=workdays.due_at(now, due_days),
            )
        )
    db.session.add_all(new_rows)
    notices.tasks_ready(instance, new_rows)


def commit() -> None:
    """Commit a step; a concurrent change of the same instance (its version column) is a
    Conflict with a message for the person."""
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict("该业务已被他人处理，请刷新后查看最新状态。") from exc


def all_or_nothing(verb):
    """Roll the whole step back when anything in it fails: no half-applied step survives."""

    @functools.wraps(verb)
    def run(*args, **kwargs):
        try:
            return verb(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return run


def _check_evidence(clean: dict, user) -> None:
    """Evidence ids must be uploads by users of the caller's own organisation."""
    ids = clean.get("evidence")
    if not ids:
        return
    storable = [i for i in ids if 0 < i <= MAX_ID]  # a larger id is no upload (and no query)
    found = {
        f.id
        for f in FileUpload.query.join(User, FileUpload.uploaded_by_id == User.id)
        .filter(FileUpload.id.in_(storable), User.org_id == user.org_id)
        .all()
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid(
            "证明材料有误。",
            {"evidence": [f"附件 {', '.join(map(str, missing))} 不存在或不是本单位上传的。"]},
        )


def _check_four_eyes(row: HumanTask, instance: Instance, user) -> None:
    """A step marked notBy=initiator must be done by someone other than who entered it."""
    props = step_properties(instance, row.step)
    if props.get("notBy") == "initiator" and instance.initiator_id == user.id:
        raise Forbidden("四眼原则：录入申请的人员不能审核同一申请，请由本校其他人员审核。")


def step_properties(instance: Instance, step: str) -> dict:
    """The `<spiffworkflow:property>` values of one step in the instance's own version."""
    spec = _version_model(instance)[0].task_spec(step)
    return spec.extensions.get("properties", {}) if spec is not None else {}


# -- public verbs ---------------------------------------------------------------------------


@all_or_nothing
def start(procedure: str, user, data: dict, student_id: int | None = None) -> Instance:
    """Start a procedure on the newest version; runs the automatic steps up to the first person."""
    plan = starters.prepare(procedure, user, data, student_id)
    _check_evidence(plan.data, user)
    try:
        instance = _open(procedure, plan, user, f"发起{PROCEDURES[procedure].name}")
    except Conflict:
        if plan.by_identity and not _open_by(plan.student, user):
            raise identity.refused() from None  # says nothing of the pupil's other procedure
        raise
    if plan.by_identity and instance.status == "running":  # a rule may have ended it
        notices.started_for_pupil(instance, plan.partner_school_id, plan.school_id)
    commit()
    return instance


def _open_by(student, user) -> bool:
    """Whether the student's open procedure was started by the caller's organisation."""
    running = Instance.query.filter_by(open_student_id=student.id).first()
    return running is not None and getattr(running.initiator, "org_id", None) == user.org_id


@all_or_nothing
def refuse(instance_id: int, user, comment: str) -> Instance:
    """The pupil's own school refuses a start another school made by ID number: it ends at
    once as rejected and lets go of the pupil, as long as the school has not approved it."""
    instance = scope.instance_or_none(user, instance_id)
    if instance is None:
        raise NotFound("业务不存在或不在您的管辖范围内。")
    if (
        user.role != "school"
        or not identity.started_by_identity(instance)
        or instance.data.get("from_school_id") != user.org_id
    ):
        raise Forbidden("只有学生学籍所在学校可以拒绝他校按身份证号发起的申请。")
    if instance.status != "running":
        raise Conflict("该申请已结束，无需拒绝。")
    if any(e.org_id == user.org_id and e.decision == "approve" for e in instance.events):
        raise Conflict("本校已同意该申请，不能再拒绝；如需终止请联系审核部门。")
    if not (comment or "").strip():
        raise Invalid("请填写拒绝理由。", {"comment": ["请填写拒绝理由。"]})
    instance.status, instance.reason = "rejected", "sender_refused"
    instance.reason_message = comment.strip()
    instance.finished_at = utcnow()
    instance.open_student_id = instance.pending_since = instance.wake_at = None
    for row in open_tasks(instance):
        row.state = "cancelled"
    db.session.add(
        InstanceEvent(
            instance_id=instance.id,
            step="sender_refusal",
            name="学籍所在学校拒绝",
            user_id=user.id,
            org_id=user.org_id,
            decision="reject",
            comment=instance.reason_message,
        )
    )
    db.session.flush()
    notices.rejected(instance)
    audit(user, f"{instance.procedure}.refuse", instance, None, {"comment": comment.strip()})
    commit()
    return instance


def start_automatic(procedure: str, student, data: dict, why: str) -> Instance:
    """The platform starts a procedure itself (from a handler, inside the caller's transaction).

    The caller checks first that no other procedure holds the student.
    """
    plan = starters.StartPlan(
        student,
        {**data, "student_id": student.id, "student_name": student.name},
        student.school_id,
    )
    plan.data.setdefault("school_id", student.school_id)
    return _open(procedure, plan, None, f"系统自动发起{PROCEDURES[procedure].name}：{why}")


def _open(procedure: str, plan: starters.StartPlan, user, event_name: str) -> Instance:
    # The starting side's variant (county over city); its newest version, else the default's.
    # The instance records the variant of the version it runs.
    variant = variants.for_start(
        procedure, plan.school_id, plan.partner_school_id, sending_side=plan.sending_rules
    )
    version = deploy.latest(procedure, variant)
    if version is None:
        raise NotFound(f"流程“{procedure}”尚未部署。")
    instance = Instance(
        procedure=procedure,
        process_version=version,
        variant=version.variant,
        status="running",
        student_id=getattr(plan.student, "id", None),
        open_student_id=getattr(plan.student, "id", None),
        initiator_id=getattr(user, "id", None),
        school_id=plan.school_id,
        partner_school_id=plan.partner_school_id,
        region_id=getattr(
            db.session.get(Organization, plan.school_id).ancestor("county"), "id", None
        ),
        state="{}",
        data=_json_safe(plan.data),
    )
    db.session.add(instance)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("该学生已有正在办理的学籍业务，须办结后再发起新的业务。") from exc
    parsed = deploy.parsed(version)
    wf = BpmnWorkflow(
        parsed.spec, parsed.subprocess_specs, script_engine=_script_engine(instance, user)
    )
    wf.get_tasks(state=TaskState.READY)[0].set_data(**_json_safe(plan.data))
    db.session.add(
        InstanceEvent(
            instance_id=instance.id,
            step="start",
            name=event_name,
            user_id=getattr(user, "id", None),
            org_id=getattr(user, "org_id", None),
        )
    )
    _advance(instance, wf)
    _save(instance, wf, user)
    audit(
        user,
        f"{procedure}.start",
        instance,
        None,
        {"data": instance.data, "status": instance.status},
    )
    return instance


# A task read to be done: its instance (with the state), the student and the version's key
# in the same statement; the version's texts come from _VERSIONS.
_TASK_WITH_INSTANCE = joinedload(HumanTask.instance).options(
    joinedload(Instance.student),
    joinedload(Instance.process_version).load_only(
        ProcessVersion.procedure,
        ProcessVersion.variant,
        ProcessVersion.version,
        ProcessVersion.content_hash,
    ),
)


def task_for(task_id: int, user) -> HumanTask:
    """The task, if it is routed to the user's organisation and role; otherwise 404."""
    row = db.session.get(HumanTask, task_id, options=[_TASK_WITH_INSTANCE])
    if row is None or row.org_id != user.org_id or row.role != user.role:
        raise NotFound("任务不存在或不在您的办理范围内。")
    return row


@all_or_nothing
def complete(task_id: int, user, data: dict) -> Instance:
    """Complete one human step with validated form data, then run to the next person."""
    row = task_for(task_id, user)
    if row.state != "open":
        raise Conflict("该任务已办理完毕，无需重复提交。")
    if row.claimed_by_id not in (None, user.id):
        raise Conflict(f"该任务已由 {row.claimed_by.label} 认领，请勿重复办理。")
    _check_four_eyes(row, row.instance, user)
    try:
        clean = FORMS[row.form_key].load(data or {})
    except ValidationError as exc:
        raise Invalid.from_marshmallow(exc.messages) from exc
    _check_evidence(clean, user)
    now = utcnow()
    # First writer wins: the loser's UPDATE matches no row once the winner has committed.
    won = db.session.execute(
        update(HumanTask)
        .where(HumanTask.id == row.id, HumanTask.state == "open")
        .values(state="completed", completed_by_id=user.id, completed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        raise Conflict("该任务已被他人办理，请刷新后查看最新状态。")
    # The row now says what the UPDATE wrote. The instance was read in this transaction;
    # a concurrent save of it fails this one on its version counter (a Conflict).
    for name, value in (
        ("state", "completed"),
        ("completed_by_id", user.id),
        ("completed_at", now),
    ):
        set_committed_value(row, name, value)
    instance = row.instance
    wf = load(instance, user)
    task = wf.get_task_from_id(UUID(row.task_uuid))
    if task is None or task.state != TaskState.READY:
        db.session.rollback()
        raise Conflict("该步骤当前不可办理。")
    task.set_data(**_json_safe(clean))
    task.run()
    db.session.add(
        InstanceEvent(
            instance_id=instance.id,
            step=row.step,
            name=row.name,
            user_id=user.id,
            org_id=user.org_id,
            decision=clean.get("decision"),
            comment=clean.get("comment"),
        )
    )
    _advance(instance, wf)
    before = {"status": instance.status}
    _save(instance, wf, user)
    audit(
        user,
        "task.complete",
        row,
        before,
        {"step": row.step, "data": _json_safe(clean), "status": instance.status},
    )
    commit()
    return instance


def claim(task_id: int, user) -> HumanTask:
    row = task_for(task_id, user)
    won = db.session.execute(
        update(HumanTask)
        .where(HumanTask.id == row.id, HumanTask.state == "open", HumanTask.claimed_by_id.is_(None))
        .values(claimed_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        db.session.refresh(row)
        if row.claimed_by_id == user.id:
            return row
        if row.state != "open":
            raise Conflict("该任务已办理完毕。")
        holder = row.claimed_by  # None: released again between our update and now
        raise Conflict(
            f"该任务已由 {holder.label} 认领。"
            if holder
            else "该任务的认领刚刚变化，请刷新后重试。"
        )
    audit(user, "task.claim", row)
    db.session.commit()
    db.session.refresh(row)
    return row


def release(task_id: int, user) -> HumanTask:
    row = task_for(task_id, user)
    if row.state != "open":
        raise Conflict("该任务已办理完毕。")
    if row.claimed_by_id != user.id:
        raise Forbidden("只能释放自己认领的任务。")
    row.claimed_by_id = None
    audit(user, "task.release", row)
    db.session.commit()
    return row


@all_or_nothing
def fire_due_timers(limit: int = 100) -> list[int]:
    """Run every instance whose timer has fallen due (the periodic scan); returns their ids.

    Each instance advances in its own transaction; automatic steps run in the name of the
    person who last acted on it. A step that fails there becomes an incident at once (the scan would otherwise
    try it again and again), and the other instances still run.
    """
    due = (
        Instance.query.filter(Instance.status == "running", Instance.wake_at <= utcnow())
        .order_by(Instance.wake_at)
        .limit(limit)
        .all()
    )
    fired = []
    for instance_id in [i.id for i in due]:
        instance = db.session.get(Instance, instance_id)
        actor = last_actor(instance)
        wf = load(instance, actor)
        try:
            _run_or_fail(instance, wf)
        except StepFailed as failed:
            error = f"{type(failed.error).__name__}: {failed.error}"[:2000]
            record_incident(instance_id, failed.step, error, 1)
            continue
        _save(instance, wf, actor)
        audit(None, "timer.fire", instance, None, {"status": instance.status})
        commit()
        fired.append(instance_id)
    return fired


def rerun(instance: Instance, user) -> None:
    """Run what is ready again (an incident's retry) and write the state (no commit)."""
    wf = load(instance, user)
    _run_automatic(instance, wf)
    _save(instance, wf, user)


def save_migrated(instance: Instance, wf: BpmnWorkflow) -> None:
    """After a version migration: run what became ready and write the state (no commit)."""
    _advance(instance, wf)
    _save(instance, wf, None)


class StepFailed(Exception):
    """An automatic step raised; `step` names its handler for the incident."""

    def __init__(self, instance_id: int, step: str | None, error: BaseException):
        super().__init__(f"{step or '自动步骤'}: {error}")
        self.instance_id, self.step, self.error = instance_id, step, error


def _run_or_fail(instance: Instance, wf: BpmnWorkflow) -> None:
    """Run what is ready; a failing step rolls back and is raised as
    StepFailed, naming its handler."""
    try:
        _run_automatic(instance, wf)
    except Exception as exc:
        step = wf.script_engine.environment.run.step
        db.session.rollback()
        raise StepFailed(instance.id, step, exc) from exc


def last_actor(instance: Instance) -> User | None:
    """Whose step set the automatic steps going: the person who last acted on the instance.

    A worker or a timer runs them later, but a record change or a certificate they make is
    audited in that person's name (None: the platform started the instance and nobody acted).
    """
    return (
        User.query.join(InstanceEvent, InstanceEvent.user_id == User.id)
        .filter(InstanceEvent.instance_id == instance.id)
        .order_by(InstanceEvent.id.desc())
        .first()
    )


def run_pending(instance_id: int) -> bool:
    """A worker runs an instance's queued automatic steps; False when nothing was queued.

    The instance row is locked for the run (first worker wins; a second finds nothing
    queued), so a job delivered twice, or re-queued after a killed worker, moves nothing twice.
    """
    instance = db.session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
    if instance is None or instance.status != "running" or instance.pending_since is None:
        db.session.rollback()
        return False
    actor = last_actor(instance)
    wf = load(instance, actor)
    _run_or_fail(instance, wf)
    instance.pending_since = None
    _save(instance, wf, actor)
    commit()
    return True


def stale_pending(older_than: timedelta) -> list[int]:
    """Instances whose automatic steps were queued longer ago than `older_than` and are not
    done: the scan queues those again that no worker holds (`jobs.lost_work`)."""
    since = utcnow() - older_than
    rows = Instance.query.filter(
        Instance.status == "running", Instance.pending_since <= since
    ).with_entities(Instance.id)
    return [i for (i,) in rows]


def record_incident(instance_id: int, step: str | None, error: str, tries: int) -> Incident:
    """Retries are used up: the instance shows `error` and waits for an admin."""
    instance = db.session.get(Instance, instance_id, populate_existing=True)
    incident = Incident(instance_id=instance_id, step=step or "", error=error, tries=tries)
    db.session.add(incident)
    instance.status = "error"
    instance.pending_since = None
    db.session.add(
        InstanceEvent(instance_id=instance_id, step=step or "", name="自动步骤失败", comment=error)
    )
    audit(None, "incident.open", instance, None, {"step": step, "error": error, "tries": tries})
    commit()
    return incident


def open_tasks(instance: Instance) -> list[HumanTask]:
    return [t for t in instance.tasks if t.state == "open"]
