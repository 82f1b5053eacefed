"""The platform's rules on top of BPMN, checked on the XML before SpiffWorkflow parses it:
lanes are slots, forms and handlers exist, gateways have defaults, end events say how an
instance ends, step properties and expressions are well formed, every flow connects."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

import forms
import handlers

from .routing import SLOTS

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# End events say how an instance ends: `end_completed…` or `end_rejected…`.
END_OUTCOMES = ("completed", "rejected")


@dataclass(frozen=True)
class Problem:
    element: str
    message: str

    def as_dict(self) -> dict:
        return {"element": self.element, "message": self.message}


class InvalidModel(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.element}: {p.message}" for p in problems))
        self.problems = problems


def end_outcome(element_id: str) -> str | None:
    for outcome in END_OUTCOMES:
        if element_id.startswith(f"end_{outcome}"):
            return outcome
    return None


def label(el) -> str:
    """How a problem names an element: its id, else its kind."""
    return el.get("id") or etree.QName(el).localname


def check_platform_rules(root, process_id: str, segment: bool = False) -> list[Problem]:
    """Our conventions on top of BPMN: lanes are slots, forms and handlers exist. A segment's
    end events hand back to the diagram that called it: they name no outcome."""
    problems: list[Problem] = []
    known_forms = forms.load_all()
    known_handlers = handlers.load_all()
    processes = root.findall("bpmn:process", NS)
    if [p.get("id") for p in processes] != [process_id]:
        problems.append(Problem(process_id, f"文件中必须恰好有一个 id 为 {process_id} 的流程"))
        return problems
    process = processes[0]
    in_lane: set[str] = set()
    for lane in process.iterfind(".//bpmn:lane", NS):
        if lane.get("name") not in SLOTS:
            problems.append(Problem(label(lane), f"泳道名称“{lane.get('name')}”不是已知的岗位槽位"))
        in_lane.update(ref.text.strip() for ref in lane.iterfind("bpmn:flowNodeRef", NS))
    for task in process.iterfind(".//bpmn:userTask", NS):
        tid = label(task)
        if tid not in in_lane:
            problems.append(Problem(tid, "人工任务必须位于一个泳道中"))
        prop = task.find(".//spiffworkflow:property[@name='formKey']", NS)
        if prop is None:
            problems.append(Problem(tid, "人工任务缺少表单（formKey）"))
        elif prop.get("value") not in known_forms:
            problems.append(Problem(tid, f"未知的表单“{prop.get('value')}”"))
    for task in process.iterfind(".//bpmn:serviceTask", NS):
        op = task.find(".//spiffworkflow:serviceTaskOperator", NS)
        if op is None:
            problems.append(Problem(label(task), "自动任务缺少处理程序（serviceTaskOperator）"))
        elif op.get("id") not in known_handlers:
            problems.append(Problem(label(task), f"未知的处理程序“{op.get('id')}”"))
    for gw in process.iterfind(".//bpmn:exclusiveGateway", NS):
        outgoing = [
            f
            for f in process.iterfind("bpmn:sequenceFlow", NS)
            if f.get("sourceRef") == gw.get("id")
        ]
        if len(outgoing) > 1 and not gw.get("default"):
            problems.append(Problem(label(gw), "排他网关必须指定默认路径"))
    for end in process.iterfind(".//bpmn:endEvent", NS):
        if segment and end_outcome(end.get("id", "")) is not None:
            problems.append(
                Problem(
                    label(end),
                    "子流程的结束事件回到调用它的主流程，不决定办理结果："
                    "id 不能以 end_completed 或 end_rejected 开头",
                )
            )
        elif not segment and end_outcome(end.get("id", "")) is None:
            problems.append(
                Problem(label(end), "结束事件的 id 必须以 end_completed 或 end_rejected 开头")
            )
    problems.extend(_check_properties(process))
    problems.extend(_check_expressions(process))
    problems.extend(_check_flows(process))
    return problems


STEP_PROPERTIES = {
    "notBy": lambda v: v == "initiator",
    "dueDays": lambda v: v.isdigit() and 1 <= int(v) <= 365,
    "rosterChanges": lambda v: v in ("true", "false"),
}
PROPERTY_RULES = {
    "notBy": "只能是 initiator（录入人以外的人员办理）",
    "dueDays": "必须是 1 到 365 之间的整数（工作日）",
    "rosterChanges": "只能是 true 或 false",
}


def _check_properties(process) -> list[Problem]:
    problems = []
    for task in process.iterfind(".//bpmn:userTask", NS):
        for prop in task.iterfind(".//spiffworkflow:property", NS):
            name, value = prop.get("name"), prop.get("value") or ""
            if name in STEP_PROPERTIES and not STEP_PROPERTIES[name](value):
                problems.append(
                    Problem(label(task), f"属性 {name}=“{value}”无效：{PROPERTY_RULES[name]}")
                )
    return problems


EXPRESSIONS = {
    "conditionExpression": ("条件表达式", "eval"),
    "script": ("脚本", "exec"),
    "timeDate": ("定时表达式", "eval"),
    "timeDuration": ("定时表达式", "eval"),
    "timeCycle": ("定时表达式", "eval"),
}


def _check_expressions(process) -> list[Problem]:
    """Conditions, scripts and timer expressions are Python: they must at least compile."""
    problems = []
    for tag, (what, mode) in EXPRESSIONS.items():
        for node in process.iterfind(f".//bpmn:{tag}", NS):
            owner = node.getparent()
            while owner is not None and etree.QName(owner).localname not in OWNERS:
                owner = owner.getparent()
            try:
                compile((node.text or "").strip() or "None", "<bpmn>", mode)
            except SyntaxError as exc:
                element = owner.get("id") if owner is not None else tag
                problems.append(Problem(element, f"{what}有语法错误：{exc.msg}"))
    return problems


FLOW_NODES = (
    "startEvent",
    "endEvent",
    "userTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "manualTask",
    "task",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "subProcess",
    "callActivity",
)


# The element an expression is reported against: its flow node or sequence flow.
OWNERS = frozenset((*FLOW_NODES, "sequenceFlow"))


def _check_flows(process) -> list[Problem]:
    """Every flow joins two existing nodes, every node but an end leads on, and every node
    can be reached from the start."""
    nodes = {el.get("id"): el for tag in FLOW_NODES for el in process.iterfind(f"bpmn:{tag}", NS)}
    flows = list(process.iterfind("bpmn:sequenceFlow", NS))
    problems = []
    outgoing: dict[str, list[str]] = {}
    for flow in flows:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        for end, ref in (("起点", source), ("终点", target)):
            if ref not in nodes:
                problems.append(Problem(label(flow), f"顺序流的{end}“{ref}”不存在"))
        outgoing.setdefault(source, []).append(target)
    for node_id, el in nodes.items():
        kind = etree.QName(el).localname
        if kind not in ("endEvent", "boundaryEvent") and not outgoing.get(node_id):
            problems.append(Problem(node_id, "该节点没有后续顺序流，流程会停在这里"))
    boundary = {
        el.get("attachedToRef"): el.get("id") for el in process.iterfind("bpmn:boundaryEvent", NS)
    }
    reached: set[str] = set()
    todo = [el.get("id") for el in process.iterfind("bpmn:startEvent", NS)]
    if not todo:
        problems.append(Problem(process.get("id"), "流程没有开始事件"))
    while todo:
        node_id = todo.pop()
        if node_id in reached:
            continue
        reached.add(node_id)
        todo.extend(outgoing.get(node_id, []))
        if node_id in boundary:
            todo.append(boundary[node_id])
    for node_id in nodes:
        if reached and node_id not in reached:
            problems.append(Problem(node_id, "从开始事件到达不了该节点"))
    return problems
