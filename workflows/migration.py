"""Moving running instances to a newer version of their process model (an admin's action).

A running instance stays on the version it started with. An admin may move it to the newest
version of its procedure and variant only where SpiffWorkflow's diff says every change lies
ahead of where the instance stands: no step it has done or is doing was changed or removed
(spiff-arena's rule). Each move is written to the instance's history and the audit log.

The same rule holds inside the segments (called processes) the instance has entered: each
is diffed against the new version's segment of that id, and a segment it has entered that
the new version no longer has blocks the move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from webapp.models import Instance, InstanceEvent, ProcessVersion, audit, db

from . import deploy, engine
from .errors import Conflict, Forbidden, NotFound
from .specs import SERIALIZER

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
    """The workflow, the new version parsed, and the diffs of the diagram and of each
    segment run the instance has (None: the new version has no such segment)."""
    wf = engine.load(instance, None)
    parsed = deploy.parsed(version)
    top, inner = diff_workflow(SERIALIZER.registry, wf, parsed.spec, parsed.subprocess_specs)
    return wf, parsed, top, inner


def _blocking(wf, top, inner) -> list[str]:
    """The steps done (or under way) that the change touches, in the diagram and in the
    segments; a segment run the new version has no segment for blocks as its call."""
    touched = [t for t in (*top.changed, *top.removed) if t.state & DONE]
    for sp_id, diff in inner.items():
        if diff is None:  # the new version lacks the segment this run is of
            touched.append(wf.get_task_from_id(sp_id))
            continue
        touched += [t for t in (*diff.changed, *diff.removed) if t.state & DONE]
    return sorted({t.task_spec.bpmn_id or t.task_spec.name for t in touched})


def _migrate(diff, workflow, spec, keep: set) -> None:
    """`migrate_workflow` for one workflow, without resetting the calls in `keep` (a call
    under way keeps its segment run, which is migrated on its own)."""
    workflow.spec = spec
    for task in workflow.tasks.values():
        if diff.alignment.get(task) is not None:
            task.task_spec = diff.alignment[task]
    for task in list(workflow.get_tasks(state=RESET, skip_subprocesses=True)):
        if task.id in workflow.tasks and task.id not in keep:
            task.reset_branch(None)
    if workflow.last_task not in workflow.tasks.values():
        workflow.last_task = None


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
    wf, _, top, inner = _diff(instance, target)
    blocking = _blocking(wf, top, inner)
    if blocking:
        base.blocking = blocking
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
    wf, parsed, top, inner = _diff(instance, target)
    running = {sp_id for sp_id, sp in wf.subprocesses.items() if not sp.completed}
    if running:
        _migrate(top, wf, parsed.spec, keep=running)
        for sp_id, diff in inner.items():
            sp = wf.subprocesses[sp_id]
            if diff is not None and not sp.completed:
                _migrate(diff, sp, parsed.subprocess_specs[sp.spec.name], keep=set())
    else:
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
