"""Suspension rules read from the form's months: a vocational student's military service for
its length (the default, 002 第十三条), the term's hours (002 第十二条), and the contagious disease the school must suspend for
(shandong, ⑦ 第十八条: no absence threshold, the county files it and cannot refuse it)."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from lxml import etree

from webapp.extensions import db
from workflows import deploy, engine, variants
from workflows.errors import Invalid
from workflows.specs import InvalidModel

from .flows import open_steps
from .test_suspension import START, decide, second_user, start, suspend, suspension_data


def assign(code: str, variant: str) -> None:
    variants.assign(code, variant)
    db.session.commit()


# -- the shared form -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "field", "message"),
    [
        ("military", "service_months", "休学原因为“应征入伍”时必须填写服役期限（月）。"),
        (
            "contagious",
            "treatment_months",
            "休学原因为“传染病（传染期内）”时必须填写治疗期（月）。",
        ),
    ],
)
def test_the_reason_asks_for_its_months(world, reason, field, message):
    student = world.student("V1", grade=10)
    with pytest.raises(Invalid) as err:
        start(world, student, reason=reason, absence_hours=0)
    assert err.value.fields == {field: [message]}


# -- military service (vocational by default, 002 第十三条) ---------------------------------


@pytest.mark.parametrize("variant", ["default", "fujian_vocational"])
def test_vocational_military_suspension_lasts_the_service(world, variant):
    """The default's vocational rows follow 002 (issue 14.6): fujian_vocational ships no
    suspension table of its own any more, so its instances run (and record) the default."""
    if variant != "default":
        assign("321203", variant)  # V1's county
    student = world.student("V1", grade=10)
    instance = suspend(world, student, reason="military", absence_hours=0, service_months=24)
    assert instance.variant == "default"
    assert student.suspended_until == START + relativedelta(months=24)
    assert instance.data["suspension"]["end"] == "2028-09-07"


def test_vocational_other_reasons_keep_one_year(world):
    student = world.student("V1", grade=10)
    suspend(world, student, absence_hours=120, term_hours=300)
    assert student.suspended_until == START + relativedelta(years=1)


def test_senior_military_keeps_one_year(world):
    """Was `test_the_default_keeps_one_year_for_military` on a vocational student: the old
    default contradicted 002 第十三条 (issue 14.6). Senior high keeps one year (000)."""
    student = world.student("H1", grade=10)
    instance = suspend(world, student, reason="military", absence_hours=0, service_months=24)
    assert instance.variant == "default"
    assert student.suspended_until == START + relativedelta(years=1)


def test_rule_absence_threshold_vocational_counts_the_terms_hours(world):
    """002 第十二条: more than one third of the term's hours; the year's hours do not do."""
    refused = start(world, world.student("V1", grade=10), absence_hours=100, term_hours=300)
    assert (refused.status, refused.reason) == ("rejected", "absence_threshold")
    assert "本学期总课时的三分之一" in refused.reason_message
    by_year = start(world, world.student("V1", grade=10), absence_hours=250, year_hours=600)
    assert by_year.reason == "absence_threshold" and "本学期总课时 未填写" in by_year.reason_message
    accepted = start(world, world.student("V1", grade=10), absence_hours=101, term_hours=300)
    assert accepted.status == "running"


# -- contagious disease ----------------------------------------------------------------------


def test_the_default_treats_a_contagious_disease_as_illness(world):
    student = world.student("P1", grade=3)
    refused = start(world, student, reason="contagious", treatment_months=8, absence_hours=100)
    assert (refused.status, refused.reason) == ("rejected", "absence_threshold")
    instance = suspend(world, world.student("P1", grade=3), reason="contagious", treatment_months=8)
    steps = [e.step for e in instance.events if e.user_id]
    assert steps == ["start", "school_review", "county_review"]


def contagious(world, months: int, absence_hours: int = 0, **extra):
    assign("3212", "shandong")
    student = world.student("P1", grade=3)
    second_user(world, "P1")
    data = {"reason": "contagious", "treatment_months": months, "absence_hours": absence_hours}
    return student, start(world, student, **data, **extra)


def test_shandong_half_a_year_of_treatment_is_filed_not_decided(world):
    student, instance = contagious(world, 6)  # no class missed: no threshold
    assert instance.variant == "shandong" and instance.data["check"]["mandatory"] is True
    instance = decide(world, instance)
    assert open_steps(instance) == [("county_filing", "321202")]
    (task,) = engine.open_tasks(instance)
    assert task.form_key == "review_filing"
    with pytest.raises(Invalid) as err:
        decide(world, instance, "reject", "不同意")
    assert err.value.fields == {"decision": ["审核意见必须是予以备案、退回学校修改之一。"]}
    instance = decide(world, instance)
    assert (student.status, student.suspended_until) == ("suspended", date(2027, 9, 7))


def test_shandong_filing_may_return_for_corrections(world):
    student, instance = contagious(world, 9)
    instance = decide(world, decide(world, instance), "return", "请附传染病诊断证明")
    assert open_steps(instance) == [("correct_application", "P1")]
    data = suspension_data(world.users["P1"], reason="contagious", treatment_months=9)
    instance = decide(world, decide(world, instance, **data))
    assert open_steps(instance) == [("county_filing", "321202")]
    decide(world, instance)
    assert student.status == "suspended"


def test_shandong_shorter_treatment_is_an_ordinary_suspension(world):
    _, refused = contagious(world, 5, absence_hours=100)
    assert (refused.status, refused.reason) == ("rejected", "absence_threshold")
    _, instance = contagious(world, 5, absence_hours=230)
    instance = decide(world, instance)
    assert open_steps(instance) == [("county_review", "321202")]
    assert instance.data["check"]["mandatory"] is False


def test_shandong_the_six_months_are_in_the_table(app):
    _, dmn = deploy.read_files("suspension", "shandong")
    assert "&gt;= 6" in dmn["suspension_mandatory.dmn"]
    default_bpmn, default_dmn = deploy.read_files("suspension")
    assert "suspension_mandatory.dmn" not in default_dmn


def test_shandong_model_is_the_default_plus_the_filing_branch():
    """Shandong ships only the county segment: the diagram is the default's, and its segment
    is the default's segment plus the filing branch."""

    def elements(xml: str) -> tuple[dict[str, bytes], dict[str, set[str]]]:
        process = etree.fromstring(xml.encode()).find("{*}process")
        nodes = {
            el.get("id"): etree.tostring(el, method="c14n")
            for el in process
            if el.get("id") and etree.QName(el).localname != "laneSet"
        }
        lanes = {
            lane.get("name"): {ref.text for ref in lane.iterfind("{*}flowNodeRef")}
            for lane in process.iter("{*}lane")
        }
        return nodes, lanes

    assert deploy.read_files("suspension", "shandong")[0] == deploy.read_files("suspension")[0]
    assert "suspension.bpmn" not in deploy.overrides("suspension", "shandong")
    (segment,) = deploy.read_segments("suspension")
    default, default_lanes = elements(deploy.read_segments("suspension")[segment])
    shandong, shandong_lanes = elements(deploy.read_segments("suspension", "shandong")[segment])
    filing = {"gw_mandatory", "f_mandatory", "f_not_mandatory", "county_filing", "f_county_filing"}
    assert set(shandong) - set(default) == filing and set(default) <= set(shandong)
    assert {key for key in default if default[key] != shandong[key]} == {"f_county_start"}
    assert shandong_lanes == {
        "school": default_lanes["school"],
        "county": default_lanes["county"] | {"gw_mandatory", "county_filing"},
    }


def test_a_diagram_with_a_filing_step_needs_the_mandatory_table(app):
    bpmn, dmn = deploy.read_files("suspension", "shandong")
    without = {k: v for k, v in dmn.items() if k != "suspension_mandatory.dmn"}
    with pytest.raises(InvalidModel) as refused:
        deploy.check_decisions(
            "suspension", bpmn, without, deploy.read_segments("suspension", "shandong")
        )
    assert [p.element for p in refused.value.problems] == ["suspension_mandatory"]
    default_bpmn, default_dmn = deploy.read_files("suspension")
    deploy.check_decisions("suspension", default_bpmn, default_dmn)  # no filing step: no table
