"""The test bench: run a procedure's model (a draft, or the shipped files) against its
scenarios in a sandbox, through the real engine, before it may be deployed.

A scenario file (workflows/scenarios/<procedure>/*.yaml) holds the variants it applies to
and a list of scenarios, each with

- `today` (optional): the day it runs on (`2027-01-20`), for calendar rules such as when
  a region handles transfers; relative dates then count from that day;
- `student`: the student it needs, at one of the sandbox schools (`WORLD`): `school`,
  `grade`, optionally `class_name`, `status`, `suspended_until`, `entry_year`;
- `classmates` (optional): more students to fill a class, `[{school, grade, class_name,
  count}]`;
- `before` (optional): procedures run on the same student first, each `{procedure, start,
  steps}` (e.g. the suspension a resumption ends);
- `start`: `{as: school code (optional), data: {...}}`, the start form's data;
- `steps`: the human steps in order, each a step id (a review step is approved) or
  `{step, data}`;
- `expect`: `path` (every step the instance records, automatic and human, in order),
  `status`, `reason`, `message` (words the rejection message contains), `actors` (step →
  the organisation code that must handle it), `student`
  (fields after the run: `status`, `grade`, `school`, `suspended_until` …), `variant`.

Values may say `today`, `today-80d`, `today+1y`, `today-80d+3m` (days, months, years from
today, applied left to right), and `evidence: upload` (one uploaded PDF by the acting user).

The sandbox is a separate in-memory SQLite database with its own schema, opened in an
application context of its own: the engine, the handlers and the models all talk to it,
and nothing of the real database is read or written. The variant under test is assigned
to both sandbox cities, so every sandbox school runs it (a scenario may `assign` others).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

import yaml
from dateutil.relativedelta import relativedelta
from flask import Flask
from sqlalchemy.pool import StaticPool

from forms.validators import build_id_number
from webapp import scope
from webapp.extensions import db
from webapp.models import (
    FileUpload,
    HumanTask,
    Instance,
    InstanceEvent,
    Organization,
    Student,
    User,
    china_today,
    scenario_day,
)

from . import deploy
from .procedures import PROCEDURES
from .specs import InvalidModel, parse

SCENARIO_DIR = Path(__file__).parent / "scenarios"

# The sandbox world: code, name, level, parent, and for schools stages, ownership, star.
WORLD: tuple[tuple, ...] = (
    ("32", "江苏省", "province", None),
    ("3212", "泰州市", "city", "32"),
    ("321202", "海陵区", "county", "3212"),
    ("321203", "高港区", "county", "3212"),
    ("3210", "扬州市", "city", "32"),
    ("321002", "广陵区", "county", "3210"),
    ("P1", "海陵实验小学", "school", "321202", "primary", "public", None),
    ("P2", "海陵第二小学", "school", "321202", "primary", "public", None),
    ("P3", "高港实验小学", "school", "321203", "primary", "public", None),
    ("P4", "广陵小学", "school", "321002", "primary", "public", None),
    ("J1", "海陵中学", "school", "321202", "junior", "public", None),
    ("J2", "高港中学", "school", "321203", "junior", "public", None),
    ("H1", "海陵高级中学", "school", "321202", "senior", "public", 3),
    ("H2", "高港高级中学", "school", "321203", "senior", "public", 3),
    ("H3", "泰州星级高中", "school", "321203", "senior", "public", 4),
    ("H4", "广陵高级中学", "school", "321002", "senior", "public", 3),
    ("V1", "高港职业学校", "school", "321203", "vocational", "public", None),
    ("V2", "海陵职业学校", "school", "321202", "vocational", "public", None),
    ("M1", "海陵民办小学", "school", "321202", "primary", "private", None),
)
CITIES = ("3212", "3210")

SCENARIO_KEYS = {
    "name",
    "variants",
    "student",
    "classmates",
    "before",
    "start",
    "steps",
    "expect",
    "assign",
    "today",
}
EXPECT_KEYS = {"path", "actors", "status", "reason", "message", "student", "variant"}
RELATIVE_DATE = re.compile(r"today((?:[+-]\d+[dmy])*)")
OFFSET = re.compile(r"([+-]\d+)([dmy])")


class ScenarioError(Exception):
    """A scenario file that cannot be read; the message names the file and the scenario."""


@dataclass
class Scenario:
    name: str
    file: str
    variants: list[str]
    student: dict
    start: dict
    steps: list
    expect: dict
    classmates: list = field(default_factory=list)
    before: list = field(default_factory=list)
    assign: dict = field(default_factory=dict)
    today: date | None = None


@dataclass
class ScenarioResult:
    name: str
    file: str
    passed: bool
    path: list[str]  # the steps the instance recorded, in order
    expected_path: list[str] | None
    open_steps: list[str]  # human steps still waiting at the end
    status: str | None
    reason: str | None
    message: str | None
    variant: str | None  # the variant the instance recorded
    version: int | None
    difference: str | None  # the first difference from what the scenario expects
    actors: dict[str, list[str]] = field(default_factory=dict)  # step → organisations it went to


@dataclass
class Report:
    procedure: str
    variant: str
    problems: list[dict] = field(default_factory=list)  # the model is invalid: nothing ran
    results: list[ScenarioResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(r.passed for r in self.results)

    @property
    def counts(self) -> tuple[int, int]:
        return sum(r.passed for r in self.results), len(self.results)

    def as_dict(self) -> dict:
        return {
            "procedure": self.procedure,
            "variant": self.variant,
            "passed": self.passed,
            "problems": self.problems,
            "results": [asdict(r) for r in self.results],
        }


# -- scenario files -------------------------------------------------------------------------


def load(procedure: str, variant: str | None = None) -> list[Scenario]:
    """The procedure's scenarios (those that apply to `variant`, when given)."""
    folder = SCENARIO_DIR / procedure
    scenarios = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        scenarios.extend(_read(path))
    return [s for s in scenarios if variant is None or variant in s.variants]


def _read(path: Path) -> list[Scenario]:
    where = f"{path.parent.name}/{path.name}"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{where}：YAML 格式错误：{exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list):
        raise ScenarioError(f"{where}：应有 scenarios 列表")
    out = []
    for i, raw in enumerate(doc["scenarios"], 1):
        name = raw.get("name") or f"第 {i} 个场景"
        unknown = set(raw) - SCENARIO_KEYS
        unknown_expect = set(raw.get("expect") or {}) - EXPECT_KEYS
        if unknown or unknown_expect:
            keys = "、".join(sorted(unknown | unknown_expect))
            raise ScenarioError(f"{where}“{name}”：未知的字段 {keys}")
        for key in ("student", "start", "expect"):
            if not isinstance(raw.get(key), dict):
                raise ScenarioError(f"{where}“{name}”：缺少 {key}")
        variants = raw.get("variants") or doc.get("variants") or [deploy.DEFAULT_VARIANT]
        today = raw.get("today")
        if today is not None and not isinstance(today, date):
            raise ScenarioError(f"{where}“{name}”：today 应为日期，例如 2027-01-20")
        out.append(
            Scenario(
                name=name,
                file=where,
                variants=list(variants),
                student=raw["student"],
                start=raw["start"],
                steps=list(raw.get("steps") or []),
                expect=raw["expect"],
                classmates=list(raw.get("classmates") or []),
                before=list(raw.get("before") or []),
                assign=dict(raw.get("assign") or {}),
                today=today,
            )
        )
    return out


def procedures_with_scenarios(variant: str | None = None) -> list[str]:
    """Procedures that have scenarios (for `variant`, when given), in the usual order."""
    return [key for key in PROCEDURES if load(key, variant)]


# -- running --------------------------------------------------------------------------------


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


@contextmanager
def sandbox() -> Iterator[Flask]:
    """An application context of its own on an empty in-memory database."""
    app = Flask("xueji_sandbox")
    app.config.update(
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SQLALCHEMY_ENGINE_OPTIONS={
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
        },
        SECRET_KEY="sandbox",
        REDIS_URL=None,  # automatic steps run inline
    )
    db.init_app(app)
    scope.init_app(app)
    with app.app_context():
        db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


class _Failed(Exception):
    """The run went another way than the scenario says; the message is the difference."""


class _Sandbox:
    """The world of one scenario inside the sandbox database."""

    def __init__(self, variant: str, assign: dict[str, str]):
        self.orgs: dict[str, Organization] = {}
        self.users: dict[str, User] = {}
        self.serial = count(1)
        for code, name, level, parent, *school in WORLD:
            org = Organization(
                code=code, name=name, level=level, parent=self.orgs.get(parent) if parent else None
            )
            if school:
                org.stages, org.ownership, org.star = school
            if code in CITIES and variant != deploy.DEFAULT_VARIANT:
                org.variant = variant
            db.session.add(org)
            self.orgs[code] = org
            self._user(f"u{code}", org, level)
            if level == "school":  # a second registrar: reviews what the first one entered
                self._user(f"u{code}b", org, level)
        for code, name in assign.items():
            self.orgs[str(code)].variant = None if name == deploy.DEFAULT_VARIANT else name
        db.session.commit()

    def _user(self, username: str, org: Organization, role: str) -> None:
        user = User(username=username, role=role, org=org, password_hash="!", display_name=username)
        db.session.add(user)
        self.users[username] = user

    def student(self, spec: dict) -> Student:
        school = self._org(spec.get("school"), "student.school")
        grade = int(spec.get("grade", 4))
        n = next(self.serial)
        gender = spec.get("gender", "M" if n % 2 else "F")
        birth = date(china_today().year - 6 - grade, 1 + n % 12, 1 + n % 28)
        household = spec.get("household_code") or school.parent.code
        student = Student(
            id_number=build_id_number(household, birth, n, gender),
            name=spec.get("name") or f"学生{n}",
            gender=gender,
            birth_date=birth,
            school=school,
            grade=grade,
            class_name=str(spec.get("class_name", "1")),
            entry_year=int(spec.get("entry_year", china_today().year - grade + 1)),
            household_code=household,
            status=spec.get("status", "enrolled"),
        )
        if spec.get("suspended_until"):
            student.suspended_until = date.fromisoformat(resolve(spec["suspended_until"]))
        student.status_number = "G" + student.id_number
        db.session.add(student)
        db.session.commit()
        return student

    def _org(self, code, what: str) -> Organization:
        if str(code) not in self.orgs:
            raise _Failed(f"{what}：沙盒中没有单位 {code}（可用：{'、'.join(self.orgs)}）")
        return self.orgs[str(code)]

    def data(self, raw: dict | None, user: User) -> dict:
        out = resolve(raw or {})
        if out.get("evidence") == "upload":
            out["evidence"] = placeholder_upload(user)
        return out

    def actor(self, task, instance: Instance) -> User:
        """A user of the task's organisation and role, other than who entered it if possible."""
        fits = [u for u in self.users.values() if u.org_id == task.org_id and u.role == task.role]
        others = [u for u in fits if u.id != instance.initiator_id]
        return (others or fits)[0]


def placeholder_upload(user: User, name: str = "证明.pdf") -> list[int]:
    """One small PDF uploaded by `user`, as a form's evidence list: what a scenario's
    `evidence: upload` stands for."""
    f = FileUpload(
        name=name,
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
        content=b"%PDF-1.4",
        uploaded_by_id=user.id,
    )
    db.session.add(f)
    db.session.commit()
    return [f.id]


def resolve(value: Any) -> Any:
    """Relative dates (`today-80d+3m`) become ISO dates, inside lists and mappings too."""
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, str) and (m := RELATIVE_DATE.fullmatch(value.strip())):
        day = china_today()
        units = {"d": "days", "m": "months", "y": "years"}
        for amount, unit in OFFSET.findall(m.group(1)):
            day += relativedelta(**{units[unit]: int(amount)})
        return day.isoformat()
    return value


def _deploy_for(procedure: str, variant: str, draft: tuple[str, dict, dict] | None) -> None:
    """Deploy into the sandbox what instances of `procedure` under `variant` run."""
    if deploy.newest(procedure, variant) is not None:
        return
    if draft is not None:
        bpmn_xml, dmn, segments = draft
        deploy.deploy(procedure, bpmn_xml, dmn, variant=variant, segments=segments)
    elif variant != deploy.DEFAULT_VARIANT and deploy.overrides(procedure, variant):
        deploy.deploy(procedure, *deploy.read_files(procedure, variant), variant=variant)
    elif deploy.newest(procedure) is None:
        deploy.deploy(procedure, *deploy.read_files(procedure))
    db.session.commit()


def _start(box: _Sandbox, procedure: str, start: dict, student: Student) -> Instance:
    from . import engine
    from .errors import EngineError

    proc = PROCEDURES[procedure]
    raw = dict(start.get("data") or {})
    if proc.two_sided:
        raw.setdefault("id_number", student.id_number)
        raw.setdefault("name", student.name)
    starter = start.get("as") or raw.get("to_school_code") or raw.get("host_school_code")
    user = box.users[f"u{box._org(starter or student.school.code, 'start.as').code}"]
    data = box.data(raw, user)
    student_id = None if proc.two_sided or proc.cohort else student.id
    try:
        return engine.start(procedure, user, data, student_id=student_id)
    except EngineError as exc:
        raise _Failed(f"发起失败：{_engine_message(exc)}") from exc


def _engine_message(exc) -> str:
    fields = "；".join(f"{k}: {'、'.join(map(str, v))}" for k, v in (exc.fields or {}).items())
    return exc.message + (f"（{fields}）" if fields else "")


def _steps(box: _Sandbox, instance: Instance, steps: list) -> None:
    from . import engine
    from .errors import EngineError

    for i, entry in enumerate(steps, 1):
        step, raw = (entry, {}) if isinstance(entry, str) else (entry["step"], entry.get("data"))
        db.session.refresh(instance)
        tasks = engine.open_tasks(instance)
        task = next((t for t in tasks if t.step == step), None)
        if task is None:
            waiting = "、".join(t.step for t in tasks) or f"无（业务状态 {instance.status}）"
            raise _Failed(f"第 {i} 个人工步骤：期望 {step} 待办，实际待办：{waiting}")
        user = box.actor(task, instance)
        data = box.data(raw, user)
        if task.form_key.startswith("review"):
            data.setdefault("decision", "approve")
        try:
            engine.complete(task.id, user, data)
        except EngineError as exc:
            raise _Failed(f"第 {i} 个人工步骤 {step} 提交失败：{_engine_message(exc)}") from exc


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
            box = _Sandbox(variant, scenario.assign)
            _deploy_for(procedure, deploy_as, draft)
            for other in PROCEDURES:  # what the run may start: e.g. a withdrawal after a suspension
                _deploy_for(other, variant, None)
            student = box.student(scenario.student)
            for mate in scenario.classmates:
                for _ in range(int(mate.get("count", 1))):
                    box.student({k: v for k, v in mate.items() if k != "count"})
            for n, earlier in enumerate(scenario.before, 1):
                try:
                    first = _start(box, earlier["procedure"], earlier.get("start") or {}, student)
                    _steps(box, first, earlier.get("steps") or [])
                except _Failed as exc:
                    raise _Failed(f"准备步骤 {n}（{earlier['procedure']}）：{exc}") from exc
            instance = _start(box, procedure, scenario.start, student)
            _steps(box, instance, scenario.steps)
        except _Failed as exc:
            result.difference = str(exc)
        except Exception as exc:  # a handler or the model failed: that is the finding
            db.session.rollback()
            result.difference = f"运行出错：{type(exc).__name__}: {exc}"
        if instance is not None:
            _observe(result, instance)
            if result.difference is None:
                result.difference = _compare(expect, result, instance)
    result.passed = result.difference is None
    return result


def _observe(result: ScenarioResult, instance: Instance) -> None:
    from . import engine

    instance = db.session.get(Instance, instance.id, populate_existing=True)
    events = InstanceEvent.query.filter_by(instance_id=instance.id).order_by(InstanceEvent.id).all()
    result.path = [e.step for e in events if e.step != "start"]
    result.open_steps = [t.step for t in engine.open_tasks(instance)]
    result.status, result.reason = instance.status, instance.reason
    result.message = instance.reason_message
    result.variant, result.version = instance.variant, instance.process_version.version
    for task in HumanTask.query.filter_by(instance_id=instance.id).order_by(HumanTask.id):
        result.actors.setdefault(task.step, []).append(task.org.code)


def _compare(expect: dict, result: ScenarioResult, instance: Instance) -> str | None:
    expected_path = expect.get("path")
    if expected_path is not None and list(expected_path) != result.path:
        for i, (want, got) in enumerate(zip(expected_path, result.path, strict=False), 1):
            if want != got:
                return f"路径第 {i} 步：期望 {want}，实际 {got}"
        if len(expected_path) > len(result.path):
            return f"路径在 {result.path[-1] if result.path else '开始'} 后结束，期望还有 {expected_path[len(result.path)]}"
        return f"路径比期望多出 {result.path[len(expected_path)]}"
    for step, org in (expect.get("actors") or {}).items():
        went = result.actors.get(step, [])
        if str(org) not in went:
            return f"步骤 {step}：期望由 {org} 办理，实际：{'、'.join(went) or '未到达'}"
    for key in ("status", "reason", "variant"):
        if key in expect and expect[key] != getattr(result, key):
            return f"{key}：期望 {expect[key]}，实际 {getattr(result, key)}"
    if "message" in expect and str(expect["message"]) not in (result.message or ""):
        return f"提示信息应包含“{expect['message']}”，实际：{result.message or '（无）'}"
    student = db.session.get(Student, instance.student_id) if instance.student_id else None
    for key, want in resolve(expect.get("student") or {}).items():
        got = _student_field(student, key)
        if str(want) != got:
            return f"学生 {key}：期望 {want}，实际 {got}"
    return None


def _student_field(student: Student | None, key: str) -> str:
    if student is None:
        return "（无学生）"
    if key == "school":
        return student.school.code
    value = getattr(student, key, None)
    return value.isoformat() if isinstance(value, date) else str(value)
