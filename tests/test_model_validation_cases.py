"""Crafted broken process models: each is refused with a message naming the element, and a
refused deploy leaves the versions and the running instances as they were."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.models import Instance, ProcessVersion
from workflows import deploy, engine
from workflows.specs import InvalidModel, parse

TRANSFER, _ = deploy.read_files("transfer")
SUSPENSION, _ = deploy.read_files("suspension")
GRADUATION, GRADUATION_DMN = deploy.read_files("graduation")
SENIOR_DMN = "graduation_senior.dmn"

BUSINESS_RULE = (
    '<bpmn:businessRuleTask id="decide" name="判定"><bpmn:extensionElements>'
    "<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>"
    "</bpmn:extensionElements></bpmn:businessRuleTask>"
)


def refused(
    procedure: str, xml: str, dmn: dict | None = None, segments: dict | None = None
) -> list[tuple[str, str]]:
    segments = deploy.read_segments(procedure) if segments is None else segments
    with pytest.raises(InvalidModel) as exc:
        parse(procedure, xml, dmn or {}, segments)
    return [(p.element, p.message) for p in exc.value.problems]


def with_rule_task(decision: str) -> str:
    """graduation.bpmn with a business-rule task on the way from the start."""
    xml = GRADUATION.replace(
        '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="local_rules"/>',
        '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="decide"/>'
        + BUSINESS_RULE.format(decision=decision)
        + '<bpmn:sequenceFlow id="f_decide" sourceRef="decide" targetRef="local_rules"/>',
    )
    return xml.replace(
        "<bpmn:flowNodeRef>start</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>decide</bpmn:flowNodeRef>",
    )


# (case, procedure, old, new, element named, words in the message)
CASES = [
    (
        "unknown lane slot",
        "transfer",
        'name="to_county"',
        'name="district_office"',
        "lane_to_county",
        "泳道",
    ),
    (
        "unknown form",
        "transfer",
        'value="review"/>',
        'value="no_such_form"/>',
        "to_county_review",
        "no_such_form",
    ),
    (
        "unknown handler",
        "transfer",
        'id="transfer.move"',
        'id="transfer.teleport"',
        "move_record",
        "transfer.teleport",
    ),
    (
        "gateway without default",
        "transfer",
        'id="gw_city" name="需要市级审核？" default="f_no_city"',
        'id="gw_city" name="x"',
        "gw_city",
        "默认路径",
    ),
    (
        "end event not named by outcome",
        "transfer",
        '<bpmn:endEvent id="end_rejected"',
        '<bpmn:endEvent id="finish_no"',
        "finish_no",
        "end_rejected",
    ),
    (
        "user task outside every lane",
        "transfer",
        "<bpmn:flowNodeRef>city_review</bpmn:flowNodeRef>",
        "",
        "city_review",
        "泳道",
    ),
    (
        "user task without a form",
        "suspension",
        '<spiffworkflow:property name="formKey" value="suspension_reminder"/>',
        "",
        "resumption_reminder",
        "formKey",
    ),
    (
        "service task without a handler",
        "suspension",
        '<spiffworkflow:serviceTaskOperator id="suspension.ended" resultVariable="ended">\n          <spiffworkflow:parameters/>\n        </spiffworkflow:serviceTaskOperator>',
        "",
        "ended",
        "处理程序",
    ),
    (
        "condition with a syntax error",
        "transfer",
        'decision == "approve"</bpmn:conditionExpression>',
        'decision = = "approve"</bpmn:conditionExpression>',
        "f_to_county_approve",
        "语法错误",
    ),
    (
        "script with a syntax error",
        "graduation",
        "certificate_serial_digits = 4",
        "certificate_serial_digits = = 4",
        "local_rules",
        "脚本",
    ),
    (
        "timer expression with a syntax error",
        "suspension",
        'suspension["end_at"]</bpmn:timeDate>',
        'suspension["end_at"</bpmn:timeDate>',
        "wait_end",
        "定时表达式",
    ),
    (
        "flow to a missing node",
        "transfer",
        'id="f_no_city" sourceRef="gw_city" targetRef="approvals_done"',
        'id="f_no_city" sourceRef="gw_city" targetRef="nowhere"',
        "f_no_city",
        "nowhere",
    ),
    (
        "flow from a missing node",
        "suspension",
        'sourceRef="remind_school"',
        'sourceRef="ghost"',
        "f_remind_school",
        "ghost",
    ),
    (
        "node that leads nowhere",
        "graduation",
        '<bpmn:sequenceFlow id="f_done" sourceRef="finalize" targetRef="end_completed"/>',
        "",
        "finalize",
        "没有后续",
    ),
    (
        "node nobody reaches",
        "graduation",
        '<bpmn:sequenceFlow id="f_resubmit" sourceRef="resubmit" targetRef="check_cohort"/>\n',
        '<bpmn:sequenceFlow id="f_resubmit" sourceRef="resubmit" targetRef="check_cohort"/>\n    <bpmn:userTask id="orphan" name="孤立的任务"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="review"/></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask><bpmn:sequenceFlow id="f_orphan" sourceRef="orphan" targetRef="classify"/>\n',
        "orphan",
        "到达不了",
    ),
    (
        "no start event",
        "graduation",
        '<bpmn:startEvent id="start" name="学校提交毕业年级名册"/>',
        '<bpmn:task id="start" name="不是开始事件"/>',
        "graduation",
        "开始事件",
    ),
    (
        "four-eyes property with an unknown value",
        "suspension",
        'name="notBy" value="initiator"',
        'name="notBy" value="principal"',
        "school_review",
        "notBy",
    ),
    (
        "due days that are not a number",
        "transfer",
        '<spiffworkflow:property name="formKey" value="review"/>',
        '<spiffworkflow:property name="formKey" value="review"/><spiffworkflow:property name="dueDays" value="十"/>',
        "to_county_review",
        "dueDays",
    ),
    (
        "roster property with an unknown value",
        "graduation",
        'name="rosterChanges" value="true"',
        'name="rosterChanges" value="yes"',
        "county_review",
        "rosterChanges",
    ),
    (
        "a second process in the file",
        "transfer",
        "</bpmn:definitions>",
        '<bpmn:process id="extra" isExecutable="true"/></bpmn:definitions>',
        "transfer",
        "恰好有一个",
    ),
    (
        "wrong process id",
        "transfer",
        '<bpmn:process id="transfer"',
        '<bpmn:process id="xfer"',
        "transfer",
        "恰好有一个",
    ),
]


@pytest.mark.parametrize(
    ("procedure", "old", "new", "element", "words"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_a_broken_model_names_the_element(procedure, old, new, element, words):
    good, _ = deploy.read_files(procedure)
    segments = deploy.read_segments(procedure)
    if old in good:
        found = refused(procedure, good.replace(old, new, 1))
    else:  # the case breaks a segment the diagram calls (e.g. the sending side's reviews)
        (name,) = [name for name, xml in segments.items() if old in xml]
        broken = {**segments, name: segments[name].replace(old, new, 1)}
        found = refused(procedure, good, segments=broken)
    assert any(el == element and words in msg for el, msg in found), found


def test_bad_xml():
    assert refused("transfer", TRANSFER[:-40])[0][0] == "definitions"


def test_business_rule_task_with_a_missing_decision_table():
    found = refused("graduation", with_rule_task("no_such_table"), GRADUATION_DMN)
    assert any("no_such_table" in msg for _, msg in found), found


def test_business_rule_task_with_its_table_parses():
    assert parse("graduation", with_rule_task("graduation_senior"), GRADUATION_DMN)


def test_malformed_decision_table_xml():
    broken = {**GRADUATION_DMN, SENIOR_DMN: GRADUATION_DMN[SENIOR_DMN][:-30]}
    found = refused("graduation", GRADUATION, broken)
    assert found[0][0] == "definitions" and "XML" in found[0][1]


def test_decision_table_cell_with_a_syntax_error():
    dmn = GRADUATION_DMN[SENIOR_DMN].replace(
        '"必修学分 " + str(required_credits)', '"必修学分 " + + str(required_credits'
    )
    assert dmn != GRADUATION_DMN[SENIOR_DMN]
    found = refused("graduation", GRADUATION, {**GRADUATION_DMN, SENIOR_DMN: dmn})
    assert found, found


def test_a_refused_deploy_leaves_versions_and_running_instances_alone(world):
    from .flows import transfer_data

    student = world.student("P1", grade=4)
    running = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    before = ProcessVersion.query.filter_by(procedure="transfer").count()
    with pytest.raises(InvalidModel):
        deploy.deploy("transfer", TRANSFER.replace('name="to_county"', 'name="x"'), {})
    assert ProcessVersion.query.filter_by(procedure="transfer").count() == before
    instance = db.session.get(Instance, running.id)
    assert instance.process_version_id == running.process_version_id
    assert [t.step for t in engine.open_tasks(instance)] == ["to_county_review"]
