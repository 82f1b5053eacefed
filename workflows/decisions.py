"""Decision tables (DMN) asked directly about one set of facts, outside any BPMN task.

Cohort procedures classify thousands of students; a BPMN multi-instance over them would
grow the workflow state quadratically, so a handler asks the instance's own decision
tables once per student instead. The tables ship next to the BPMN file and are deployed
with it, so a region changes them by editing the DMN, never Python.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

from lxml import etree
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from .scripting import SAFE_BUILTINS

_SCRIPTS = PythonScriptEngine(environment=TaskDataEnvironment({"__builtins__": SAFE_BUILTINS}))


@lru_cache(maxsize=32)
def _engines(dmn_xml: str) -> dict[str, DMNEngine]:
    parser = BpmnDmnParser()
    parser.add_dmn_xml(etree.fromstring(dmn_xml.encode()))
    return {key: parser.get_engine(key, None) for key in parser.dmn_parsers}


def table(dmn: dict[str, str], decision_id: str) -> DMNEngine:
    """The decision `decision_id` among a version's DMN files (name → XML)."""
    for xml in dmn.values():
        engines = _engines(xml)
        if decision_id in engines:
            return engines[decision_id]
    raise KeyError(f"流程版本中没有决策表“{decision_id}”")


def collect(engine: DMNEngine, facts: dict) -> list[dict]:
    """Every matching rule's outputs, in table order (hit policy COLLECT)."""
    task = SimpleNamespace(data=facts, workflow=SimpleNamespace(script_engine=_SCRIPTS))
    return [rule.output_as_dict(task) for rule in engine.decide(task)]


DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


def rule_notes(dmn: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Each table's name and its rules' descriptions, in table order: what a region's
    tables say, shown to the person who enters an application."""
    out = []
    for name in sorted(dmn):
        root = etree.fromstring(dmn[name].encode())
        for decision in root.iterfind("dmn:decision", DMN_NS):
            notes = [
                (d.text or "").strip()
                for d in decision.iterfind(".//dmn:rule/dmn:description", DMN_NS)
                if (d.text or "").strip()
            ]
            if notes:
                out.append((decision.get("name") or decision.get("id"), notes))
    return out
