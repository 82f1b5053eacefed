"""Moving running instances to a newer version of their process model (an admin's action).

A running instance stays on the version it started with. An admin may move it to the newest
version of its procedure and variant only where SpiffWorkflow's diff says every change lies
ahead of where the instance stands: no step it has done or is doing was changed or removed
(spiff-arena's rule). Each move is written to the instance's history and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from webapp.models import Instance, InstanceEvent, ProcessVersion, audit, db

from . import deploy, engine
from .errors import Conflict, Forbidden, NotFound
from .specs import SERIALIZER, parse

DONE = TaskState.COMPLETED | TaskState.STARTED
RESET = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class Plan:
    instance_id: int
    from_version: int
    to_version: int | None
    allowed: bool
    reason: str = ""
    blocking: list[str] = field(default_factory=list)  # steps done that the change touches


def _target(instance: Instance) -> ProcessVersion | None:
    return deploy.latest(instance.procedure, instance.variant)


def _diff(instance: Instance, version: ProcessVersion):
    wf = engine.load(instance, None)
    parsed = parse(instance.procedure, version.bpmn_xml, version.dmn)
    top, _ = diff_workflow(SERIALIZER.registry, wf, parsed.spec, parsed.subprocess_specs)
    return wf, parsed, top


def plan(instance: Instance) -> Plan:
    """Whether the instance may move to the newest version, and if not, why (in Chinese)."""
    current = instance.process_version
    target = _target(instance)
    base = Plan(instance.id, current.version, target.version if target else None, False)
    if instance.status not in ("running", "error"):
        base.reason = "业务已结束，不需要迁移。"
        return base
    if target is None or target.id == current.id:
        base.reason = "已在最新版本上。"
        return base
    _, _, top = _diff(instance, target)
    touched = [t for t in (*top.changed, *top.removed) if t.state & DONE]
    if touched:
        base.blocking = sorted({t.task_spec.bpmn_id or t.task_spec.name for t in touched})
        base.reason = "新版本改动了该业务已经办理过的步骤：" + "、".join(base.blocking) + "。"
        return base
    base.allowed = True
    return base


def migrate(instance_id: int, user) -> Instance:
    """Move one instance to the newest version, or refuse with the reason (Conflict)."""
    if user.role != "admin":
        raise Forbidden("只有平台管理员可以迁移业务的流程版本。")
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("业务不存在。")
    decided = plan(instance)
    if not decided.allowed:
        raise Conflict(f"业务 {instance.id} 不能迁移：{decided.reason}")
    target = _target(instance)
    wf, parsed, top = _diff(instance, target)
    migrate_workflow(top, wf, parsed.spec, reset_mask=RESET)
    wf.subprocess_specs = parsed.subprocess_specs
    before = {"version": instance.process_version.version}
    instance.process_version = target
    engine.save_migrated(instance, wf)
    db.session.add(
        InstanceEvent(
            instance_id=instance.id,
            step="migrate",
            name=f"流程版本由 {before['version']} 迁移到 {target.version}",
            user_id=user.id,
            org_id=user.org_id,
        )
    )
    audit(user, "instance.migrate", instance, before, {"version": target.version})
    db.session.commit()
    return instance


def migrate_all(procedure: str, variant: str, user) -> list[Plan]:
    """Every running instance of a procedure and variant that may move, moved; the others
    come back with their reason."""
    results = []
    query = Instance.query.filter(
        Instance.procedure == procedure,
        Instance.variant == variant,
        Instance.status.in_(("running", "error")),
    ).order_by(Instance.id)
    for instance in query.all():
        decided = plan(instance)
        if decided.allowed:
            migrate(instance.id, user)
        results.append(decided)
    return results
