"""Where an instance stands on its own diagram: the BPMN elements done, waiting, rejected at
and failed, and who acts in each lane. One answer for the API and for the browser pages.
"""

from __future__ import annotations

from lxml import etree

from webapp.models import Incident, Instance

from . import engine, routing, runtime
from .model_rules import NS, end_outcome

LEVEL_LABELS = {
    "school": "学校",
    "county": "县级教育行政部门",
    "city": "市级教育行政部门",
    "province": "省级教育行政部门",
}
SIDE_LABELS = {"": "", "from_": "转出地", "to_": "转入地"}


def diagram(instance: Instance, hidden: set[int] = frozenset()) -> dict:
    """`{bpmn_xml, completed, active, rejected, failed, lanes, segments}` for drawing the
    instance.

    Element ids, each list in the order the steps were reached (those inside segments
    included); `lanes` maps lane ids to the organisation acting in that lane for this
    instance (or a generic label, also for the organisations in `hidden`: see
    `workflows.identity.hidden_orgs`). `segments` holds each segment the version's diagram
    calls, in call order, as `{id, name, bpmn_xml, completed, active, rejected, failed,
    lanes}` with only that segment's elements (ids are unique across a procedure's files).
    """
    completed: list[str] = []
    under_way: list[str] = []
    errored: list[str] = []
    if instance.state:
        states = runtime.element_states(engine.load(instance, None))
        completed, errored = states.completed, states.errored
        if instance.status in ("running", "error"):
            under_way = states.under_way
    else:  # no saved state: the history still names the steps done
        completed = [event.step for event in instance.events]
    failed = _unique(errored + _incident_elements(instance, under_way))
    active = [task.step for task in engine.open_tasks(instance)] + under_way
    active = [element for element in _unique(active) if element not in failed]
    whole = {
        "bpmn_xml": instance.process_version.bpmn_xml,
        "completed": _unique(completed),
        "active": active,
        "rejected": _rejected(instance, completed),
        "failed": failed,
        "lanes": _lane_labels(_bpmn(instance), instance, hidden),
    }
    whole["segments"] = [
        _segment(segment, xml, whole, instance, hidden)
        for segment, xml in (instance.process_version.segments or {}).items()
    ]
    return whole


MARKED = ("completed", "active", "rejected", "failed")


def _segment(segment: str, xml: str, whole: dict, instance: Instance, hidden: set[int]) -> dict:
    """One segment's part of the diagram answer: its own elements of each list."""
    root = _parse(xml)
    process = root.find("bpmn:process", NS)
    ids = set(root.xpath("//bpmn:*/@id", namespaces=NS))
    out = {
        "id": segment,
        "name": process.get("name") if process is not None else segment,
        "bpmn_xml": xml,
    }
    out.update({key: [e for e in whole[key] if e in ids] for key in MARKED})
    out["lanes"] = _lane_labels(root, instance, hidden)
    return out


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _rejected(instance: Instance, completed: list[str]) -> list[str]:
    """The review step a person rejected at (or the rule check that failed) and the end event."""
    steps = [event.step for event in instance.events if event.decision == "reject"]
    if instance.status == "rejected" and not steps:
        failed_checks = [event.step for event in instance.events if event.decision == "fail"]
        steps = failed_checks[-1:]
    ends = [element for element in completed if end_outcome(element) == "rejected"]
    return _unique(steps + ends)


def _incident_elements(instance: Instance, under_way: list[str]) -> list[str]:
    """The elements of the instance's open incidents. An incident names the element, or the
    handler of a service task: then the task of that handler still waiting to run."""
    incidents = (
        Incident.query.filter_by(instance_id=instance.id, resolved_at=None)
        .order_by(Incident.id)
        .all()
    )
    if not incidents:
        return []
    roots = [_bpmn(instance), *map(_parse, (instance.process_version.segments or {}).values())]
    ids = {i for root in roots for i in root.xpath("//bpmn:*/@id", namespaces=NS)}
    elements = []
    for incident in incidents:
        if incident.step in ids:
            elements.append(incident.step)
            continue
        tasks = [
            operator.getparent().getparent().get("id")
            for root in roots
            for operator in root.iterfind(".//spiffworkflow:serviceTaskOperator", NS)
            if operator.get("id") == incident.step
        ]
        elements += [task for task in tasks if task in under_way] or tasks
    return elements


def _parse(xml: str):
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(xml.encode(), parser)


def _bpmn(instance: Instance):
    return _parse(instance.process_version.bpmn_xml)


def _lane_labels(root, instance: Instance, hidden: set[int]) -> dict[str, str]:
    labels = {}
    for lane in root.iterfind(".//bpmn:lane", NS):
        slot = (lane.get("name") or "").strip()
        if lane.get("id") and slot in routing.SLOTS:
            labels[lane.get("id")] = _slot_label(slot, instance.data or {}, hidden)
    return labels


def _slot_label(slot: str, data: dict, hidden: set[int]) -> str:
    level = routing.slot_role(slot)
    try:
        org = routing.resolve(slot, data)
    except routing.RoutingError:
        org = None
    if org is None or org.id in hidden:
        return SIDE_LABELS[slot[: -len(level)]] + LEVEL_LABELS[level]
    return org.name
