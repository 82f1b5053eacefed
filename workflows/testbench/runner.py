"""Running a model against its scenarios: each scenario in a fresh sandbox, through the real
engine (start, the human steps in order), then what the instance did beside what the
scenario expects."""

from __future__ import annotations

from webapp.models import HumanTask, Instance, InstanceEvent, Student, db, scenario_day
from webapp.models.vocabulary import PROCEDURES

from .. import deploy, engine
from ..errors import EngineError
from ..specs import InvalidModel, parse
from .report import Report, ScenarioResult, compare
from .sandbox import Failed, Sandbox, deploy_for, sandbox
from .scenarios import Scenario, load, procedures_with_scenarios


def run(
    procedure: str,
    variant: str,
    bpmn_xml: str,
    dmn: dict[str, str],
    scenarios: list[Scenario] | None = None,
    *,
    deploy_as: str | None = None,
    segments: dict[str, str] | None = None,
) -> Report:
    """Run a draft (BPMN + DMN of `procedure`, as a version of `variant`) against the
    scenarios that apply to `variant`; each scenario in a fresh sandbox.

    `deploy_as` puts the draft under another variant's name in the sandbox (the default's,
    when the variant's shipped files are the default's: its instances fall back to it).
    `segments` are the draft's segments (those not given: `deploy.segments_for`)."""
    report = Report(procedure, variant)
    segments = deploy.segments_for(procedure, variant, bpmn_xml, segments)
    try:
        parse(procedure, bpmn_xml, dmn, segments)
        deploy.check_decisions(procedure, bpmn_xml, dmn, segments)
    except InvalidModel as exc:
        report.problems = [p.as_dict() for p in exc.problems]
        return report
    draft = (bpmn_xml, dmn, segments)
    for scenario in load(procedure, variant) if scenarios is None else scenarios:
        report.results.append(
            _run_scenario(scenario, procedure, variant, draft, deploy_as or variant)
        )
    return report


def run_shipped(procedure: str, variant: str) -> Report:
    """The shipped files of `variant`; where it overrides nothing of `procedure`, the
    default's, deployed as the default (as `sync_files` does), so instances fall back."""
    own = variant == deploy.DEFAULT_VARIANT or deploy.overrides(procedure, variant)
    return run(
        procedure,
        variant,
        *deploy.read_files(procedure, variant),
        deploy_as=variant if own else deploy.DEFAULT_VARIANT,
        segments=deploy.read_segments(procedure, variant),
    )


def run_variant(variant: str) -> list[Report]:
    """Every procedure that has scenarios for `variant`, on its shipped files."""
    return [run_shipped(key, variant) for key in procedures_with_scenarios(variant)]


def _start(box: Sandbox, procedure: str, start: dict, student: Student) -> Instance:
    proc = PROCEDURES[procedure]
    raw = dict(start.get("data") or {})
    if proc.two_sided:
        raw.setdefault("id_number", student.id_number)
        raw.setdefault("name", student.name)
    starter = start.get("as") or raw.get("to_school_code") or raw.get("host_school_code")
    user = box.starter(starter or student.school.code)
    data = box.data(raw, user)
    student_id = None if proc.two_sided or proc.cohort else student.id
    try:
        return engine.start(procedure, user, data, student_id=student_id)
    except EngineError as exc:
        raise Failed(f"发起失败：{_engine_message(exc)}") from exc


def _engine_message(exc) -> str:
    fields = "；".join(f"{k}: {'、'.join(map(str, v))}" for k, v in (exc.fields or {}).items())
    return exc.message + (f"（{fields}）" if fields else "")


def _steps(box: Sandbox, instance: Instance, steps: list) -> None:
    for i, entry in enumerate(steps, 1):
        step, raw = (entry, {}) if isinstance(entry, str) else (entry["step"], entry.get("data"))
        db.session.refresh(instance)
        tasks = engine.open_tasks(instance)
        task = next((t for t in tasks if t.step == step), None)
        if task is None:
            waiting = "、".join(t.step for t in tasks) or f"无（业务状态 {instance.status}）"
            raise Failed(f"第 {i} 个人工步骤：期望 {step} 待办，实际待办：{waiting}")
        user = box.actor(task, instance)
        data = box.data(raw, user)
        if task.form_key.startswith("review"):
            data.setdefault("decision", "approve")
        try:
            engine.complete(task.id, user, data)
        except EngineError as exc:
            raise Failed(f"第 {i} 个人工步骤 {step} 提交失败：{_engine_message(exc)}") from exc


def _run_scenario(
    scenario: Scenario, procedure: str, variant: str, draft: tuple[str, dict, dict], deploy_as: str
) -> ScenarioResult:
    expect = scenario.expect
    result = ScenarioResult(
        name=scenario.name,
        file=scenario.file,
        passed=False,
        path=[],
        expected_path=expect.get("path"),
        open_steps=[],
        status=None,
        reason=None,
        message=None,
        variant=None,
        version=None,
        difference=None,
    )
    with sandbox(), scenario_day(scenario.today):
        instance = None
        try:
            box = Sandbox(variant, scenario.assign)
            deploy_for(procedure, deploy_as, draft)
            for other in PROCEDURES:  # what the run may start: e.g. a withdrawal after a suspension
                deploy_for(other, variant, None)
            student = box.student(scenario.student)
            for mate in scenario.classmates:
                for _ in range(int(mate.get("count", 1))):
                    box.student({k: v for k, v in mate.items() if k != "count"})
            for n, earlier in enumerate(scenario.before, 1):
                try:
                    first = _start(box, earlier["procedure"], earlier.get("start") or {}, student)
                    _steps(box, first, earlier.get("steps") or [])
                except Failed as exc:
                    raise Failed(f"准备步骤 {n}（{earlier['procedure']}）：{exc}") from exc
            instance = _start(box, procedure, scenario.start, student)
            _steps(box, instance, scenario.steps)
        except Failed as exc:
            result.difference = str(exc)
        except Exception as exc:  # a handler or the model failed: that is the finding
            db.session.rollback()
            result.difference = f"运行出错：{type(exc).__name__}: {exc}"
        if instance is not None:
            _observe(result, instance)
            if result.difference is None:
                result.difference = compare(expect, result, instance)
    result.passed = result.difference is None
    return result


def _observe(result: ScenarioResult, instance: Instance) -> None:
    instance = db.session.get(Instance, instance.id, populate_existing=True)
    events = InstanceEvent.query.filter_by(instance_id=instance.id).order_by(InstanceEvent.id).all()
    result.path = [e.step for e in events if e.step != "start"]
    result.open_steps = [t.step for t in engine.open_tasks(instance)]
    result.status, result.reason = instance.status, instance.reason
    result.message = instance.reason_message
    result.variant, result.version = instance.variant, instance.process_version.version
    for task in HumanTask.query.filter_by(instance_id=instance.id).order_by(HumanTask.id):
        result.actors.setdefault(task.step, []).append(task.org.code)
