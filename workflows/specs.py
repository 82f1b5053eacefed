"""Parse and validate BPMN (and DMN) content into SpiffWorkflow specs.

Validation answers with element-level errors ({element, message}) so that a bad file is
refused before it can become a version; parsing is cached by content hash.

A procedure's diagram may call segments (`bpmn:callActivity calledElement="<segment>"`): each
segment is a process of its own file, passed as `segments: {segment id: BPMN}`, and a variant
may replace one with its own. A segment follows the same platform rules, hands its data back
to the diagram that called it and never decides the outcome itself (its end events are not
`end_completed…`/`end_rejected…`); the ids of one procedure's diagram and segments are one
namespace, since steps, tasks and history rows name elements by id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from forms.parse_errors import at, located

from .model_rules import (
    BPMN_NS,
    NS,
    InvalidModel,
    Problem,
    check_platform_rules,
    label,
)

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def content_hash(bpmn_xml: str, dmn: dict[str, str], segments: dict[str, str] | None = None) -> str:
    """One digest of everything a version runs (a version without segments keeps the digest
    it had before segments existed)."""
    h = hashlib.sha256(bpmn_xml.encode())
    for name in sorted(dmn):
        h.update(name.encode() + b"\0" + dmn[name].encode())
    for name in sorted(segments or {}):
        h.update(b"segment\0" + name.encode() + b"\0" + segments[name].encode())
    return h.hexdigest()


def called_elements(bpmn_xml: str) -> list[tuple[str, str]]:
    """`(call activity id, called segment id)` of every call activity in the file."""
    try:
        root = etree.fromstring(bpmn_xml.encode())
    except etree.XMLSyntaxError:
        return []  # parse() names the broken file
    return [
        (el.get("id") or "callActivity", (el.get("calledElement") or "").strip())
        for el in root.iterfind(".//bpmn:callActivity", NS)
    ]


def called_segments(bpmn_xml: str, lookup) -> dict[str, str]:
    """The segments the diagram calls, and those they call in turn: `{segment id: BPMN}`, each
    found by `lookup(segment id)` (None: not found, left out for parse() to refuse)."""
    found: dict[str, str] = {}
    todo = [called for _, called in called_elements(bpmn_xml)]
    while todo:
        segment = todo.pop(0)
        if not segment or segment in found:
            continue
        xml = lookup(segment)
        if xml is None:
            continue
        found[segment] = xml
        todo.extend(called for _, called in called_elements(xml))
    return dict(sorted(found.items()))


def start_slot(bpmn_xml: str) -> str | None:
    """The lane slot that holds the start event: who starts the procedure (`to_school` for
    the default transfer, `from_school` where a variant lets the sending school start)."""
    root = etree.fromstring(bpmn_xml.encode())
    start = root.find(".//bpmn:startEvent", NS)
    if start is None:
        return None
    for lane in root.iterfind(".//bpmn:lane", NS):
        if any(
            (ref.text or "").strip() == start.get("id")
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)
        ):
            return lane.get("name")
    return None


def steps_used(bpmn_xml: str, segments: dict[str, str] | None = None) -> set[str]:
    """Every form key and handler name the diagram (and the segments it calls) uses. What a
    start form offers follows the steps a region's diagram has (a county that places the
    student, a move out of the region)."""
    used: set[str] = set()
    for xml in (bpmn_xml, *(segments or {}).values()):
        root = etree.fromstring(xml.encode())
        used |= {
            prop.get("value")
            for prop in root.iterfind(".//spiffworkflow:property", NS)
            if prop.get("name") == "formKey"
        }
        used |= {op.get("id") for op in root.iterfind(".//spiffworkflow:serviceTaskOperator", NS)}
    return used - {None}


@dataclass(frozen=True)
class ParsedModel:
    process_id: str
    spec: object
    subprocess_specs: dict
    spec_json: str  # the serialized spec, stored once per version

    def task_spec(self, step: str):
        """The spec of the step `step` (a BPMN id), in the diagram or in a segment it calls."""
        for spec in (self.spec, *self.subprocess_specs.values()):
            if step in spec.task_specs:
                return spec.task_specs[step]
        return None


def parse(
    process_id: str,
    bpmn_xml: str,
    dmn: dict[str, str] | None = None,
    segments: dict[str, str] | None = None,
) -> ParsedModel:
    """Parse and validate (with the segments the diagram calls); raises InvalidModel with
    element-level problems."""
    return _parse_cached(
        process_id,
        bpmn_xml,
        json.dumps(dmn or {}, sort_keys=True),
        json.dumps(segments or {}, sort_keys=True),
    )


def _xml(text: str, where: str, what: str = ""):
    """The parsed file; a syntax error is refused at its place (`what` names a file the
    element `where` does not, a decision table)."""
    try:
        return etree.fromstring(text.encode())
    except etree.XMLSyntaxError as exc:
        raise InvalidModel([Problem(where, f"{what}XML 格式错误，{located(exc)}")]) from exc


def _check_segments(process_id: str, root, segments: dict[str, str]) -> dict[str, object]:
    """The segments the diagram calls, parsed and checked: a call activity must name a
    segment that is there, each segment follows the platform rules, and no id of the
    procedure's diagram and segments is used twice."""
    problems: list[Problem] = []
    trees: dict[str, object] = {}
    seen_ids = {el.get("id"): process_id for el in root.iter() if isinstance(el.tag, str)}
    seen_ids.pop(None, None)
    todo = [(process_id, root)]
    while todo:
        caller, tree = todo.pop(0)
        for call in tree.iterfind(".//bpmn:callActivity", NS):
            called = (call.get("calledElement") or "").strip()
            if called in trees:
                continue
            if not called or called not in segments:
                problems.append(
                    Problem(
                        label(call),
                        f"调用活动调用的子流程“{called}”不存在：请随模型提供该子流程"
                        f"（segments/{called or '<子流程>'}.bpmn）",
                    )
                )
                continue
            if called == process_id:
                problems.append(Problem(label(call), "子流程不能调用主流程本身"))
                continue
            segment = _xml(segments[called], f"segment:{called}")
            trees[called] = segment
            for problem in check_platform_rules(segment, called, segment=True):
                problems.append(Problem(problem.element, f"子流程“{called}”：{problem.message}"))
            for el in segment.iter():
                ident = el.get("id") if isinstance(el.tag, str) else None
                if ident is None or etree.QName(el).namespace != BPMN_NS:
                    continue
                if etree.QName(el).localname in ("definitions", "collaboration", "participant"):
                    continue
                if ident in seen_ids and seen_ids[ident] != called:
                    problems.append(
                        Problem(
                            ident,
                            f"子流程“{called}”中的 id “{ident}”已在“{seen_ids[ident]}”中使用："
                            "同一流程的主流程和子流程不能有重复的 id",
                        )
                    )
                seen_ids.setdefault(ident, called)
            todo.append((called, segment))
    if problems:
        raise InvalidModel(problems)
    return trees


@lru_cache(maxsize=64)
def _parse_cached(process_id: str, bpmn_xml: str, dmn_json: str, segments_json: str) -> ParsedModel:
    dmn = json.loads(dmn_json)
    root = _xml(bpmn_xml, "definitions")
    problems = check_platform_rules(root, process_id)
    if problems:
        raise InvalidModel(problems)
    segments = _check_segments(process_id, root, json.loads(segments_json))
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename=f"{process_id}.bpmn")
        for name, tree in segments.items():
            parser.add_bpmn_xml(tree, filename=f"{name}.bpmn")
        for name, xml in dmn.items():
            parser.add_dmn_xml(_xml(xml, "definitions", f"决策表 {name} "), filename=name)
        for dmn_parser in parser.dmn_parsers.values():
            dmn_parser.parse()  # a malformed rule cell fails here, at deploy, not mid-cohort
        spec = parser.get_spec(process_id)
        subs = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as exc:
        element = getattr(exc, "id", None) or getattr(exc, "task_id", None) or process_id
        line = getattr(exc, "line_number", None) or None
        english = str(exc.args[0]) if exc.args else ""
        raise InvalidModel([Problem(str(element), f"BPMN 解析失败，{at(english, line)}")]) from exc
    state = json.loads(SERIALIZER.serialize_json(BpmnWorkflow(spec, subs)))
    spec_json = json.dumps({"spec": state["spec"], "subprocess_specs": state["subprocess_specs"]})
    return ParsedModel(process_id, spec, subs, spec_json)
