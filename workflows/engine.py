"""The engine's public verbs: start an instance, refuse one, complete a step, claim and
release it, fire due timers, retry and migrate. Each runs in one database transaction.

The parts below it, each importing only downwards: `runtime` runs SpiffWorkflow,
`persistence` writes the run down, `producer` queues work for `worker`. Concurrent
completions of one task are decided by a conditional UPDATE on the task row (first writer
wins) and by the instance's version counter.
"""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from forms import FORMS
from webapp.models import (
    HumanTask,
    Instance,
    InstanceEvent,
    Organization,
    ProcessVersion,
    audit,
    db,
    utcnow,
)
from webapp.models.vocabulary import PROCEDURES

from . import deploy, identity, jurisdiction, notices, runtime, services, starters, variants
from .desk import add_comment, assign, withdraw  # noqa: F401  (verbs of the façade)
from .dry_run import Refusal, screen, screen_step
from .errors import Conflict, Forbidden, Invalid, NotFound, Refused
from .persistence import (
    all_or_nothing,
    commit,
    end_early,
    json_safe,
    last_actor,
    open_tasks,  # noqa: F401  (the façade's: the web side asks which steps are open)
    person_event,
    record_incident,
    save,
)
from .runtime import StepFailed, Workflow, run_or_fail
from .step_checks import carried_evidence, check_evidence, check_four_eyes, kept_evidence


def _context(instance: Instance, user, data: dict) -> services.EngineContext:
    """What a handler is given; the engine hands it the one verb a handler may call back,
    starting a follow-up procedure, so the services never import the engine."""
    return services.EngineContext(instance, user, data, start_automatic)


def load(instance: Instance, user) -> Workflow:
    """The running workflow, its handlers given the instance, the user and the task data."""
    return runtime.load(instance, user, _context)


@all_or_nothing
def dry_run(procedure: str, user, data: dict, student_id: int | None = None) -> list[Refusal]:
    """What starting would refuse on its face, creating nothing (`workflows.dry_run`)."""
    plan = starters.prepare(procedure, user, data, student_id)
    check_evidence(plan.data, user)
    found = screen(procedure, plan, user, _version(procedure, plan), _context)
    commit()
    return found


@all_or_nothing
def start(
    procedure: str, user, data: dict, student_id: int | None = None, check_first: bool = False
) -> Instance:
    """Start a procedure on the newest version; runs the automatic steps up to the first person.

    `check_first` (the browser's start forms): the first automatic checks run before
    anything is created, and a refusal raises `Refused` (audited as a dry run) instead of
    opening an instance that would end at once as 未通过.
    """
    plan = starters.prepare(procedure, user, data, student_id)
    check_evidence(plan.data, user)
    if check_first:
        found = screen(procedure, plan, user, _version(procedure, plan), _context)
        if found:
            commit()
            raise Refused(found)
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
    instance = jurisdiction.instance_in_reach(user, instance_id)
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
    comment = comment.strip()
    end_early(instance, "rejected", "sender_refused", comment)
    person_event(instance, user, "sender_refusal", "学籍所在学校拒绝", "reject", comment)
    db.session.flush()
    notices.rejected(instance)
    audit(user, f"{instance.procedure}.refuse", instance, None, {"comment": comment})
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


def _version(procedure: str, plan: starters.StartPlan) -> ProcessVersion:
    """The version a start runs: the starting side's variant (county over city), its newest
    version, else the default's. The instance records the variant of the version it runs."""
    variant = variants.for_start(
        procedure, plan.school_id, plan.partner_school_id, sending_side=plan.sending_rules
    )
    version = deploy.latest(procedure, variant)
    if version is None:
        raise NotFound(f"流程“{procedure}”尚未部署。")
    return version


def _open(procedure: str, plan: starters.StartPlan, user, event_name: str) -> Instance:
    version = _version(procedure, plan)
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
        data=json_safe(plan.data),
    )
    db.session.add(instance)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("该学生已有正在办理的学籍业务，须办结后再发起新的业务。") from exc
    wf = runtime.new_workflow(instance, version, user, json_safe(plan.data), _context)
    db.session.add(
        InstanceEvent(
            instance_id=instance.id,
            step="start",
            name=event_name,
            user_id=getattr(user, "id", None),
            org_id=getattr(user, "org_id", None),
        )
    )
    runtime.advance(instance, wf)
    save(instance, wf)
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
    check_four_eyes(row, row.instance, user)
    try:
        clean = FORMS[row.form_key].load(carried_evidence(row.instance, row.form_key, data or {}))
    except ValidationError as exc:
        raise Invalid.from_marshmallow(exc.messages) from exc
    check_evidence(clean, user)
    clean = kept_evidence(row.instance, clean)
    if found := screen_step(row, user, clean, _context):
        commit()
        raise Refused(found, "修改后的申请仍未通过自动检查，未提交，请按提示修改后再提交。")
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
    task = runtime.ready_task(wf, row.task_uuid)
    if task is None:
        db.session.rollback()
        raise Conflict("该步骤当前不可办理。")
    task.set_data(**json_safe(clean))
    task.run()
    person_event(instance, user, row.step, row.name, clean.get("decision"), clean.get("comment"))
    runtime.advance(instance, wf)
    before = {"status": instance.status}
    save(instance, wf)
    audit(
        user,
        "task.complete",
        row,
        before,
        {"step": row.step, "data": json_safe(clean), "status": instance.status},
    )
    commit()
    return instance


def claim(task_id: int, user) -> HumanTask:
    row = task_for(task_id, user)
    won = db.session.execute(
        update(HumanTask)
        .where(HumanTask.id == row.id, HumanTask.state == "open", HumanTask.claimed_by_id.is_(None))
        .values(claimed_by_id=user.id, claimed_at=utcnow())
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
    """Give a claim back: one's own, or as the organisation's lead a colleague's."""
    row = task_for(task_id, user)
    if row.state != "open":
        raise Conflict("该任务已办理完毕。")
    if row.claimed_by_id is None or (row.claimed_by_id != user.id and not user.lead):
        raise Forbidden("只能释放自己认领的任务；同事认领的任务由本单位负责人释放。")
    before = {"claimed_by": row.claimed_by.username if row.claimed_by else None}
    row.claimed_by_id = row.claimed_at = None
    audit(user, "task.release", row, before, {"claimed_by": None})
    db.session.commit()
    return row


@all_or_nothing
def fire_due_timers(limit: int = 100) -> list[int]:
    """Run every instance whose timer has fallen due (the periodic scan); returns their ids.

    Each instance advances in its own transaction; automatic steps run in the name of the
    person who last acted on it. A step that fails there becomes an incident at once (the
    scan would otherwise try it again and again), and the other instances still run.
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
            run_or_fail(instance, wf)
        except StepFailed as failed:
            error = f"{type(failed.error).__name__}: {failed.error}"[:2000]
            record_incident(instance_id, failed.step, error, 1)
            continue
        save(instance, wf)
        audit(None, "timer.fire", instance, None, {"status": instance.status})
        commit()
        fired.append(instance_id)
    return fired


def rerun(instance: Instance, user) -> None:
    """Run what is ready again (an incident's retry) and write the state (no commit)."""
    wf = load(instance, user)
    runtime.run_automatic(instance, wf)
    save(instance, wf)


def save_migrated(instance: Instance, wf: Workflow) -> None:
    """After a version migration: run what became ready and write the state (no commit)."""
    runtime.advance(instance, wf)
    save(instance, wf)
