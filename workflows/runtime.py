"""The one module that runs SpiffWorkflow: the script engine and the handlers' environment,
loading and dumping a workflow's state, running the automatic steps, and its timers.

A deployed version never changes (a change is a new version), so each process keeps the
parsed model and the spec text of every version it has run, keyed by id and content.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.util.task import TaskState

import handlers
from webapp.models import Instance, InstanceEvent, ProcessVersion, db, utcnow

from . import deploy, producer
from .scripting import SAFE_BUILTINS
from .specs import SERIALIZER, ParsedModel

Workflow = BpmnWorkflow  # what the layers above hold, without importing SpiffWorkflow

# Timers whose due time SpiffWorkflow keeps as ISO text (cycle timers are not used).
TIMER_EVENTS = ("TimeDateEventDefinition", "DurationTimerEventDefinition")

# What a handler is given: built from the run (instance, acting user) and the task's data.
ContextFactory = Callable[[Instance, object, dict], object]


class _Run:
    """What a handler call needs to know about the current engine run."""

    def __init__(self, instance: Instance, user, context: ContextFactory):
        self.instance = instance
        self.user = user
        self.context = context
        self.step: str | None = None  # the handler running now, named in an incident


class _HandlerEnvironment(TaskDataEnvironment):
    def __init__(self, run: _Run):
        super().__init__({"__builtins__": SAFE_BUILTINS})
        self.run = run

    def call_service(self, context, operation_name, operation_params, **kwargs):
        fn = handlers.HANDLERS[operation_name]
        self.run.step = operation_name
        result = fn(self.run.context(self.run.instance, self.run.user, context))
        return json.dumps(result, default=str)


class _ScriptEngine(PythonScriptEngine):
    def call_service(self, task, **kwargs):
        # SpiffWorkflow 3.2.0 hides handler errors behind NameError('script'): call directly.
        return self.environment.call_service(task.data, **kwargs)


def _script_engine(instance: Instance, user, context: ContextFactory) -> _ScriptEngine:
    handlers.load_all()
    return _ScriptEngine(environment=_HandlerEnvironment(_Run(instance, user, context)))


_VERSIONS: dict[tuple[int, str], tuple[ParsedModel, str]] = {}


def version_model(instance: Instance) -> tuple[ParsedModel, str]:
    """The instance's own version: parsed model and spec JSON, read from the row once."""
    version = instance.process_version
    key = (version.id, version.content_hash)
    model = _VERSIONS.get(key)
    if model is None:
        parsed = deploy.parsed(version)
        model = _VERSIONS[key] = (parsed, version.spec_json)
    return model


def new_workflow(
    instance: Instance, version: ProcessVersion, user, data: dict, context: ContextFactory
) -> BpmnWorkflow:
    """A fresh workflow of `version` with the start data on its first task."""
    parsed = deploy.parsed(version)
    wf = BpmnWorkflow(
        parsed.spec, parsed.subprocess_specs, script_engine=_script_engine(instance, user, context)
    )
    wf.get_tasks(state=TaskState.READY)[0].set_data(**data)
    return wf


def load(instance: Instance, user, context: ContextFactory) -> BpmnWorkflow:
    """The running workflow from the stored state (parsed once) and the version's spec."""
    state = json.loads(instance.state)
    state.update(json.loads(version_model(instance)[1]))
    SERIALIZER.migrate(state)
    wf = SERIALIZER.from_dict(state)
    wf.script_engine = _script_engine(instance, user, context)
    return wf


def dump_state(wf: BpmnWorkflow) -> str:
    """The workflow's state without its spec, which is stored once per version."""
    state = json.loads(SERIALIZER.serialize_json(wf))
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    return json.dumps(state, ensure_ascii=False)


def next_timer(wf: BpmnWorkflow) -> datetime | None:
    """When the earliest timer the workflow waits on falls due, as naive UTC (None: no timer)."""
    due = [
        datetime.fromisoformat(event.value).astimezone(UTC).replace(tzinfo=None)
        for event in wf.waiting_events()
        if event.event_type in TIMER_EVENTS and event.value
    ]
    return min(due, default=None)


def last_data(wf: BpmnWorkflow) -> dict:
    """The data of the step done last anywhere in the instance.

    SpiffWorkflow runs a call activity (a segment) as a sub-workflow of its own: the top
    workflow's `last_task` stays on the step before the call until the segment hands back.
    Inside a running segment, that segment's data is the latest (the diagram's data as it
    was handed in, plus its own)."""
    running = [sp.last_task for sp in wf.subprocesses.values() if not sp.completed]
    candidates = [(0, wf.last_task)] + [(1, task) for task in running]
    candidates = [(depth, task) for depth, task in candidates if task is not None]
    if not candidates:
        return {}
    # The latest change wins; at the same instant (a frozen clock) the running segment's.
    return max(candidates, key=lambda c: (c[1].last_state_change, c[0]))[1].data


def ready_human_tasks(wf: BpmnWorkflow) -> dict:
    """The steps waiting for a person, by task id (text)."""
    return {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}


def ready_task(wf: BpmnWorkflow, task_uuid: str):
    """The task with this id if it is ready to be done, else None."""
    task = wf.get_task_from_id(UUID(task_uuid))
    return task if task is not None and task.state == TaskState.READY else None


def completed_elements(wf: BpmnWorkflow) -> list[str]:
    """The element ids of the steps done, in the order they were reached."""
    return [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)]


# Steps under way that are not (or not only) a person's task: a timer waiting, an automatic
# step queued for a worker.
UNDER_WAY = TaskState.WAITING | TaskState.READY | TaskState.STARTED


@dataclass
class ElementStates:
    """Element ids of one instance's steps, each list in the order the steps were reached."""

    completed: list[str] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)
    under_way: list[str] = field(default_factory=list)  # gateways aside


def element_states(wf: BpmnWorkflow) -> ElementStates:
    """Where each step of the workflow stands, segments included, for drawing it."""
    states = ElementStates()
    for task in wf.get_tasks():
        element = task.task_spec.bpmn_id
        if element is None:
            continue
        if task.state == TaskState.COMPLETED:
            states.completed.append(element)
        elif task.state == TaskState.ERROR:
            states.errored.append(element)
        elif task.state & UNDER_WAY and "Gateway" not in type(task.task_spec).__name__:
            states.under_way.append(element)
    return states


def step_properties(instance: Instance, step: str) -> dict:
    """The `<spiffworkflow:property>` values of one step in the instance's own version."""
    spec = version_model(instance)[0].task_spec(step)
    return spec.extensions.get("properties", {}) if spec is not None else {}


# -- running the automatic steps ------------------------------------------------------------


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


def run_automatic(instance: Instance, wf: BpmnWorkflow) -> None:
    wf.refresh_timers()
    wf.do_engine_steps(did_complete_task=_record_automatic(instance))


def advance(instance: Instance, wf: BpmnWorkflow) -> None:
    """Run the automatic steps now, or, with background workers, queue them for a worker."""
    if producer.enabled():
        if wf.get_tasks(state=TaskState.READY, manual=False):
            instance.pending_since = utcnow()
            producer.enqueue_after_commit(instance.id)
        return
    run_automatic(instance, wf)


class StepFailed(Exception):
    """An automatic step raised; `step` names its handler for the incident."""

    def __init__(self, instance_id: int, step: str | None, error: BaseException):
        super().__init__(f"{step or '自动步骤'}: {error}")
        self.instance_id, self.step, self.error = instance_id, step, error


def run_or_fail(instance: Instance, wf: BpmnWorkflow) -> None:
    """Run what is ready; a failing step rolls back and is raised as
    StepFailed, naming its handler."""
    try:
        run_automatic(instance, wf)
    except Exception as exc:
        step = wf.script_engine.environment.run.step
        db.session.rollback()
        raise StepFailed(instance.id, step, exc) from exc
