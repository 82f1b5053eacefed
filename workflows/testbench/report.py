"""What a test-bench run reports: a result per scenario, the report of a model, and the
first difference between what a scenario expects and what the instance did."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from webapp.models import Instance, Student, db

from .scenarios import resolve


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


def compare(expect: dict, result: ScenarioResult, instance: Instance) -> str | None:
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
        got = student_field(student, key)
        if str(want) != got:
            return f"学生 {key}：期望 {want}，实际 {got}"
    return None


def student_field(student: Student | None, key: str) -> str:
    if student is None:
        return "（无学生）"
    if key == "school":
        return student.school.code
    value = getattr(student, key, None)
    return value.isoformat() if isinstance(value, date) else str(value)
