"""The test bench's scenario files, and the relative dates they may use.

A scenario file (workflows/scenarios/<procedure>/*.yaml) holds the variants it applies to
and a list of scenarios, each with

- `today` (optional): the day it runs on (`2027-01-20`), for calendar rules such as when
  a region handles transfers; relative dates then count from that day;
- `student`: the student it needs, at one of the world's schools (`world.ORGANISATIONS`):
  `school`, `grade`, optionally `class_name`, `status`, `suspended_until`, `entry_year`;
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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from dateutil.relativedelta import relativedelta

from forms.parse_errors import located
from webapp.models import china_today
from webapp.models.vocabulary import PROCEDURES

from .. import deploy

SCENARIO_DIR = Path(__file__).parent.parent / "scenarios"

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
        raise ScenarioError(f"{where}：YAML 格式错误，{located(exc)}") from exc
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
