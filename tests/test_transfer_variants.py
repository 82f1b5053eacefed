"""Regional transfer chains that differ from the default in more than a table: zhushan's
papers that expire, yuhong's moves out of the city, shandong's county placement."""

from __future__ import annotations

from datetime import date

import pytest

from webapp.extensions import db
from webapp.models import HumanTask, Instance
from workflows import deploy, engine, variants
from workflows.errors import Invalid
from workflows.specs import InvalidModel

from .flows import act, actor_for, approve_all, at, open_steps, transfer_data

# -- zhushan: transfer papers are valid for three months (003 篇10 一、转学 ⒊) ---------------


def _zhushan_transfer_with_papers(world):
    """A primary-school move from 海陵区 into zhushan's 高港区, approved up to the papers."""
    variants.assign("321203", "zhushan")  # the receiving side (P3) decides the variant
    db.session.commit()
    student = world.student("P1", grade=4)
    with at(date(2027, 1, 20)):  # a week around the end of a term: transfers are handled
        instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
        instance = act(world, instance)  # 高港区 accepts
        instance = act(world, instance)  # 海陵实验小学 agrees: its papers are issued today
    return student, instance


def test_zhushan_papers_expire_three_months_after_the_sending_school_issued_them(world):
    student, instance = _zhushan_transfer_with_papers(world)
    assert (instance.variant, open_steps(instance)) == (
        "zhushan",
        [("from_county_review", "321202")],
    )
    assert instance.data["papers"]["issued_on"] == "2027-01-20"
    task = HumanTask.query.filter_by(instance_id=instance.id, state="open").one()

    with at(date(2027, 4, 19), hour=23):
        assert engine.fire_due_timers() == []
    assert instance.status == "running"

    with at(date(2027, 4, 20), hour=1):
        assert engine.fire_due_timers() == [instance.id]
    db.session.refresh(instance)
    assert (instance.status, instance.reason) == ("rejected", "papers_expired")
    assert "2027-01-20" in instance.reason_message and "过期作废" in instance.reason_message
    assert db.session.get(HumanTask, task.id).state == "cancelled"
    assert student.school.code == "P1"  # nothing moved
    assert instance.open_student_id is None  # the student may apply again


def test_zhushan_papers_approved_in_time_move_the_student(world):
    student, instance = _zhushan_transfer_with_papers(world)
    with at(date(2027, 4, 19)):
        approve_all(world, instance)
    assert (instance.status, student.school.code) == ("completed", "P3")
    with at(date(2027, 5, 1)):
        assert engine.fire_due_timers() == []  # the timer went with the step


# -- shandong: compulsory students are placed by the receiving county (000 ⑦ 第十二条) -------


def _sending_form(student, **where) -> dict:
    return {
        "id_number": student.id_number,
        "name": student.name,
        "to_grade": str(student.grade),
        "reason": "household_move",
        **where,
    }


def _start_in_browser(world, login, county: str, variant: str, offered: str, **where):
    """A primary pupil of P1 whose region runs `variant`: the start page offers the field
    `offered` (and not the other alternative); submitting it starts the instance."""
    variants.assign(county, variant)
    db.session.commit()
    student = world.student("P1", grade=4)
    school = login("uP1")
    form = school.get("/transfers/new").get_data(as_text=True)
    other = {"to_county_code", "destination"} - {offered}
    assert f'name="{offered}"' in form and f'name="{other.pop()}"' not in form
    resp = school.post("/transfers/new", data=_sending_form(student, **where))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:800]
    return student, Instance.query.one()


def test_shandong_sending_school_names_a_county_which_places_the_student(world, login):
    student, instance = _start_in_browser(
        world, login, "3212", "shandong", "to_county_code", to_county_code="321203"
    )
    assert (instance.variant, open_steps(instance)) == (
        "shandong",
        [("from_county_review", "321202")],
    )
    act(world, instance)  # 海陵区 confirms

    county = login("u321203")  # no school of 高港区 is named yet, but the step is routed here
    (task,) = engine.open_tasks(instance)
    assert (task.step, task.org.code) == ("place_student", "321203")
    detail = county.get(f"/instances/{instance.id}")
    assert detail.status_code == 200 and "高港区（由该县区教育局安置学校）" in detail.get_data(
        as_text=True
    )
    page = county.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "同意接收并安置" in page and 'name="to_school_code"' in page

    # A school of the wrong stage: the automatic check sends the step back, naming the rule.
    wrong = county.post(f"/tasks/{task.id}", data={"decision": "approve", "to_school_code": "J2"})
    assert wrong.status_code == 302
    (again,) = engine.open_tasks(instance)
    assert again.step == "place_student" and again.id != task.id
    page = county.get(f"/tasks/{again.id}").get_data(as_text=True)
    assert 'id="failed-check"' in page and "转入学校须设该学段" in page  # the rule's title
    assert "stage_offered" not in page

    placed = county.post(
        f"/tasks/{again.id}",
        data={"decision": "approve", "to_school_code": "P3", "to_class_name": "3"},
    )
    assert placed.status_code == 302
    # Issue 14: the placed school names the class before the record moves (the county's
    # suggestion stands until it does).
    (seat,) = engine.open_tasks(instance)
    assert (seat.step, seat.org.code) == ("to_school_class", "P3")
    seated = login("uP3").post(f"/tasks/{seat.id}", data={"to_class_name": "3"})
    assert seated.status_code == 302
    db.session.refresh(instance)
    assert instance.status == "completed"
    assert (student.school.code, student.class_name) == ("P3", "3")
    assert login("uP3").get(f"/instances/{instance.id}").status_code == 200  # now involved
    assert login("uP2").get(f"/instances/{instance.id}").status_code == 404


def seat(world, instance, username: str, class_name: str):
    """The school the county placed the student in names the class (issue 14)."""
    (task,) = engine.open_tasks(instance)
    return engine.complete(task.id, world.users[username], {"to_class_name": class_name})


def place(world, instance, **data):
    (task,) = engine.open_tasks(instance)
    return engine.complete(task.id, actor_for(world, task), data)


def test_shandong_placement_must_name_a_school_of_that_county(world):
    variants.assign("3212", "shandong")
    db.session.commit()
    student = world.student("P1", grade=4)
    data = transfer_data(student, None, to_county_code="321203")
    instance = engine.start("transfer", world.users["P1"], data)
    instance = act(world, instance)
    refused = place(world, instance, decision="approve", to_school_code="P2")  # 海陵区's school
    assert open_steps(refused) == [("place_student", "321203")]
    assert refused.data["check"]["rule"] == "placed_in_county"
    assert "高港区" in refused.data["check"]["message"]
    done = place(world, refused, decision="reject", comment="学位已满")
    assert (done.status, done.reason, student.school.code) == (
        "rejected",
        "reviewer_rejected",
        "P1",
    )


def test_shandong_a_named_school_still_needs_the_receiving_county(world, login):
    """000 ⑦ 第十二条: the receiving bureau agrees and places, even when the sending school
    names a school; the named school is the county's to confirm or replace. Before, the move
    went school → sending county → receiving school and the receiving county was never asked."""
    variants.assign("3212", "shandong")
    world.org("P5", "高港第二小学", "school", "321203", stages="primary", ownership="public")
    db.session.commit()
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P1"], transfer_data(student, "P3"))
    assert (instance.variant, open_steps(instance)) == (
        "shandong",
        [("from_county_review", "321202")],
    )
    instance = act(world, instance)  # 海陵区 confirms
    assert open_steps(instance) == [("place_student", "321203")]  # not 高港实验小学 itself

    # The county places outside its county: refused by the rule, the step comes back.
    refused = place(world, instance, decision="approve", to_school_code="P4")
    assert open_steps(refused) == [("place_student", "321203")]
    assert refused.data["check"]["rule"] == "placed_in_county"
    # It places nearer than the school named: that school names the class, the record goes
    # there, and that school sees it.
    placed = place(world, refused, decision="approve", to_school_code="P5", to_class_name="2")
    assert open_steps(placed) == [("to_school_class", "P5")]
    done = seat(world, placed, "P5", "2")
    assert (done.status, student.school.code, student.class_name) == ("completed", "P5", "2")
    assert done.partner_school_id == world.orgs["P5"].id
    assert login("uP5").get(f"/instances/{done.id}").status_code == 200


def test_shandong_a_named_school_the_county_confirms(world):
    variants.assign("3212", "shandong")
    db.session.commit()
    student = world.student("J1", grade=8)
    instance = engine.start("transfer", world.users["J1"], transfer_data(student, "J2"))
    instance = act(world, instance)
    placed = place(world, instance, decision="approve", to_school_code="J2")
    done = seat(world, placed, "J2", "1")
    assert (done.status, student.school.code) == ("completed", "J2")
    assert [t.step for t in done.tasks] == [
        "from_county_review",
        "place_student",
        "to_school_class",
    ]


def test_shandong_sending_start_refusals_name_the_field(world, login):
    variants.assign("3212", "shandong")
    db.session.commit()
    school = login("uH1")
    senior = world.student("H1", grade=11)
    cases = [
        (_sending_form(senior, to_county_code="321203"), "to_county_code", "义务教育阶段"),
        (_sending_form(senior), "to_school_code", "只填写一项"),
        (
            _sending_form(senior, to_school_code="H2", to_county_code="321203"),
            "to_school_code",
            "只填写一项",
        ),
        (_sending_form(senior, destination="辽宁省大连市"), "to_school_code", "只填写一项"),
    ]
    for data, field, words in cases:
        resp = school.post("/transfers/new", data=data)
        page = resp.get_data(as_text=True)
        assert resp.status_code == 422 and words in page, (data, page[:300])
        assert f'name="{field}"' in page
    primary = world.student("P1", grade=4)
    resp = login("uP1").post("/transfers/new", data=_sending_form(primary, to_county_code="9999"))
    assert resp.status_code == 422 and "转入县（区）代码不存在" in resp.get_data(as_text=True)
    assert Instance.query.count() == 0


# -- yuhong: a move out of the city leaves as 转至市外 (003 篇2 第九条) ---------------------


def test_yuhong_student_leaves_the_city_with_the_district_approval(world, login):
    student, instance = _start_in_browser(
        world, login, "321202", "yuhong", "destination", destination="辽宁省大连市"
    )
    assert open_steps(instance) == [("from_county_review", "321202")]
    page = login("u321202").get(f"/instances/{instance.id}").get_data(as_text=True)
    assert "辽宁省大连市" in page
    path = approve_all(world, instance)
    assert path == [("from_county_review", "321202")]
    assert (instance.status, student.status, student.school.code) == (
        "completed",
        "cancelled",
        "P1",
    )
    (row,) = student.history
    assert row.after["left_for"] == "转至市外：辽宁省大连市"
    assert instance.open_student_id is None


def test_a_region_without_moves_out_of_the_city_refuses_a_destination(world):
    variants.assign("321202", "shandong")
    db.session.commit()
    student = world.student("P1", grade=4)
    data = transfer_data(student, None, destination="辽宁省大连市")
    with pytest.raises(Invalid) as refused:
        engine.start("transfer", world.users["P1"], data)
    assert "destination" in refused.value.fields


def test_a_diagram_that_issues_papers_needs_the_validity_table(app):
    shipped = deploy.newest("transfer", "zhushan")
    bpmn, dmn = deploy.read_files("transfer", "zhushan")
    without = {k: v for k, v in dmn.items() if k != "transfer_papers.dmn"}
    with pytest.raises(InvalidModel) as refused:
        deploy.deploy("transfer", bpmn.replace("三个月", "3 个月"), without, variant="zhushan")
    assert [p.element for p in refused.value.problems] == ["transfer_papers"]
    assert deploy.newest("transfer", "zhushan") == shipped
    default_bpmn, default_dmn = deploy.read_files("transfer")
    deploy.deploy("transfer", default_bpmn, default_dmn)  # the default issues no papers


# -- between a region where the sending school starts and one where the receiving one does --


def test_a_sending_start_region_takes_in_a_student_from_a_receiving_start_region(world, login):
    """高港区 runs shandong (the sending school starts), 海陵区 the default (the receiving school
    starts): neither P1 nor P3 could start under its own rules, so P3 takes the student in
    under 海陵区's rules."""
    variants.assign("321203", "shandong")
    db.session.commit()
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    assert (instance.variant, open_steps(instance)) == ("default", [("to_county_review", "321203")])
    approve_all(world, instance)
    assert student.school.code == "P3"

    # The other way round, P3 (shandong) sends its own student: shandong's rules.
    back = engine.start("transfer", world.users["P3"], transfer_data(student, "P1"))
    assert back.variant == "shandong"
    # A school of a default region still cannot send its own student: the receiving one starts.
    other = world.student("P1", grade=5)
    with pytest.raises(Invalid):
        engine.start("transfer", world.users["P1"], transfer_data(other, "P2"))
