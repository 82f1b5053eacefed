"""Writing a run down: the workflow state, the outcome, the open human-task rows, a
person's line in the history, an instance a person ends early, the incident that ends a
failing run, and the commit that decides between concurrent writers.

Every public verb of the engine writes through here inside one transaction: the state, the
task rows, the history and any record change commit together or not at all.
"""

from __future__ import annotations

import functools
import json

from sqlalchemy.orm.exc import StaleDataError

from webapp.models import HumanTask, Incident, Instance, InstanceEvent, User, audit, db, utcnow

from . import notices, routing, workdays
from .errors import Conflict
from .model_rules import end_outcome
from .runtime import (
    Workflow,
    completed_elements,
    dump_state,
    last_data,
    next_timer,
    ready_human_tasks,
)

REVIEW_DAYS = 10


def json_safe(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def save(instance: Instance, wf: Workflow) -> None:
    """Write state, status, data and the open human-task rows for this instance."""
    instance.state = dump_state(wf)
    instance.wake_at = next_timer(wf)
    last = last_data(wf)
    instance.data = json_safe(last)
    if wf.is_completed():
        _finish(instance, wf, last)
    _sync_tasks(instance, wf)


def _finish(instance: Instance, wf: Workflow, last: dict) -> None:
    """The outcome the end event names, and why a rejected instance was rejected."""
    outcome = next(
        (end_outcome(element) for element in completed_elements(wf) if end_outcome(element or "")),
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


def _sync_tasks(instance: Instance, wf: Workflow) -> None:
    ready = ready_human_tasks(wf)
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


def open_tasks(instance: Instance) -> list[HumanTask]:
    return [t for t in instance.tasks if t.state == "open"]


def end_early(instance: Instance, status: str, reason: str, message: str) -> list[HumanTask]:
    """A person ends the instance before its model does (withdrawn, refused, given up after
    an incident): it lets go of the student, its timers stop and the steps waiting are
    cancelled (returned, for the notices)."""
    waiting = open_tasks(instance)
    instance.status, instance.reason, instance.reason_message = status, reason, message
    instance.finished_at = utcnow()
    instance.open_student_id = instance.pending_since = instance.wake_at = None
    for row in waiting:
        row.state = "cancelled"
    return waiting


def person_event(
    instance: Instance, user, step: str, name: str, decision: str | None, comment: str | None
) -> InstanceEvent:
    """A line of the history in the name of `user` and their organisation."""
    event = InstanceEvent(
        instance_id=instance.id,
        step=step,
        name=name,
        user_id=user.id,
        org_id=user.org_id,
        decision=decision,
        comment=comment,
    )
    db.session.add(event)
    return event


def last_actor(instance: Instance) -> User | None:
    """Whose step set the automatic steps going: the person who last acted on the instance.

    A worker or a timer runs them later, but a record change or a certificate they make is
    audited in that person's name (None: the platform started the instance and nobody acted).
    """
    return (
        User.query.join(InstanceEvent, InstanceEvent.user_id == User.id)
        .filter(
            InstanceEvent.instance_id == instance.id,
            InstanceEvent.decision.is_distinct_from("comment"),  # a remark sets nothing going
        )
        .order_by(InstanceEvent.id.desc())
        .first()
    )


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
