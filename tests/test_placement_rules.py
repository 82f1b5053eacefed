"""Issue 14, items 1, 2 and 7: a suspended student studies nowhere else, the receiving side
names the class and its cap is checked again right before the record moves, and the star
rule concerns four-star general high schools only. Each rule's refusal beside an accepted
control."""

from __future__ import annotations

from datetime import date

import pytest

from webapp.extensions import db
from webapp.models import Student
from workflows import engine, variants
from workflows.errors import Invalid

from .flows import act, approve_all, at, borrow_data, enrol, open_steps, transfer_data
from .test_registration import admitted, problems, resubmit, review, submit
from .test_suspension import decide, second_user, suspend
from .test_suspension import start as start_suspension


def _transfer(world, student, to_school, **overrides):
    return engine.start(
        "transfer", world.users[to_school], transfer_data(student, to_school, **overrides)
    )


# -- item 1: 000 第十八条 "休学者不得…中途到其他学校上学" -----------------------------------


def test_suspended_studies_nowhere_refuses_a_borrow_study(world):
    enrol(world, "P3")
    suspended = world.student("P1", grade=4, status="suspended", suspended_until=date(2027, 9, 7))
    refused = engine.start("borrow", world.users["P3"], borrow_data(suspended, "P3"))
    assert (refused.status, refused.reason) == ("rejected", "suspended_studies_nowhere")
    assert "000 第十八条" in refused.reason_message and "其他学校上学" in refused.reason_message
    assert suspended.borrow_host_id is None

    enrolled = world.student("P1", grade=4)  # the control: an enrolled pupil borrows
    accepted = engine.start("borrow", world.users["P3"], borrow_data(enrolled, "P3"))
    approve_all(world, accepted)
    assert accepted.status == "completed" and enrolled.borrow_host.code == "P3"


def test_suspended_studies_nowhere_a_borrowing_student_is_not_suspended(world):
    """The other way round: a student borrowing elsewhere ends the borrowing first."""
    enrol(world, "P3")
    student = world.student("P1", grade=4)
    approve_all(world, engine.start("borrow", world.users["P3"], borrow_data(student, "P3")))
    refused = start_suspension(world, student)
    assert (refused.status, refused.reason) == ("rejected", "already_borrowing")
    control = start_suspension(world, world.student("P1", grade=4))
    assert control.status == "running"


def test_suspended_studies_nowhere_leaves_a_transfer_alone(world):
    """T9: a suspended student's record may move; the suspension goes with it."""
    student = world.student("P1", grade=4, status="suspended", suspended_until=date(2027, 9, 7))
    approve_all(world, _transfer(world, student, "P3"))
    assert (student.school.code, student.status) == ("P3", "suspended")


# -- item 2: the class is named, and its cap checked when the record changes ---------------


def test_class_size_cap_is_checked_again_at_the_final_step(world):
    """Two transfers into a class of 44 (cap 45): both pass the start; the first moves, the
    second is refused at its final step, naming the rule."""
    for _ in range(44):
        world.student("P3", grade=4, class_name="2")
    first_pupil, second_pupil = world.student("P1", grade=4), world.student("P4", grade=4)
    first = _transfer(world, first_pupil, "P3", to_class_name="2")
    second = _transfer(world, second_pupil, "P3", to_class_name="2")
    assert first.status == second.status == "running"  # 44 < 45 at both starts

    approve_all(world, first)
    assert first.status == "completed"
    assert (first_pupil.school.code, first_pupil.class_name) == ("P3", "2")

    approve_all(world, second)  # the receiving county is offered a return for correction
    assert open_steps(second) == [("recheck_failed", "321203")]
    check = second.data["check"]
    assert (check["rule"], check["correctable"]) == ("class_size_cap", True)
    assert "45 人" in check["message"] and "000 ⑦ 第八条" in check["message"]
    assert second_pupil.school.code == "P4"  # nothing moved
    second = act(world, second, "reject", "2 班已满")
    assert (second.status, second.reason) == ("rejected", "reviewer_rejected")


def test_class_named_is_required_when_the_receiving_school_starts(world):
    student = world.student("P1", grade=4)
    with pytest.raises(Invalid) as refused:
        _transfer(world, student, "P3", to_class_name="  ")
    assert "to_class_name" in refused.value.fields
    assert _transfer(world, student, "P3", to_class_name="3").status == "running"


def test_class_named_a_correction_that_blanks_the_class_is_refused_before_the_move(world):
    student = world.student("P1", grade=4)
    instance = act(world, _transfer(world, student, "P3"))  # the receiving county approves
    instance = act(world, instance, "return", "请核对班级")
    instance = act(world, instance, to_grade=4, to_class_name="", reason="household_move")
    approve_all(world, instance)
    assert open_steps(instance) == [("recheck_failed", "321203")]
    assert instance.data["check"]["rule"] == "class_named"
    instance = act(world, instance, "return", "请填写编入的班级")
    assert open_steps(instance) == [("correct_application", "P3")]
    assert student.school.code == "P1"

    control = world.student("P1", grade=4)
    instance = act(world, _transfer(world, control, "P3"))
    instance = act(world, instance, "return", "请核对班级")
    instance = act(world, instance, to_grade=4, reason="household_move")  # class kept
    approve_all(world, instance)
    assert (instance.status, control.school.code, control.class_name) == ("completed", "P3", "1")


def test_class_named_by_the_receiving_school_when_the_sending_school_starts(world):
    """yuhong: the sending school starts; the receiving school's confirmation names the class."""
    variants.assign("3212", "yuhong")
    db.session.commit()
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P1"], transfer_data(student, "P3"))
    assert open_steps(instance) == [("to_school_confirm", "P3")]
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Invalid) as refused:
        engine.complete(task.id, world.users["P3"], {"decision": "approve"})
    assert "to_class_name" in refused.value.fields
    instance = act(world, instance, to_class_name="5")
    approve_all(world, instance)
    assert (instance.status, student.school.code, student.class_name) == ("completed", "P3", "5")


# -- item 7: the star rule concerns four-star general high schools only ---------------------


@pytest.mark.parametrize(("school", "to_school", "grade"), [("P1", "P3", 4), ("J1", "J2", 8)])
def test_star_rule_concerns_senior_high_only(world, school, to_school, grade):
    world.orgs[school].star, world.orgs[to_school].star = 3, 4
    db.session.commit()
    accepted = _transfer(world, world.student(school, grade=grade), to_school)
    assert accepted.status == "running"  # a primary or junior 3★ → 4★ move is not refused

    refused = _transfer(world, world.student("H1", grade=10), "H3")  # senior 3★ → 4★
    assert (refused.status, refused.reason) == ("rejected", "star_rule")
    assert "普通高中" in refused.reason_message and "说明1" in refused.reason_message


def test_class_size_cap_resumption_is_checked_again_at_the_final_step(world):
    """A class with room at the start fills up while the school and county decide."""
    for _ in range(44):
        world.student("P1", grade=3, class_name="2")
    student, control = world.student("P1", grade=3), world.student("P1", grade=3)
    suspend(world, student)
    suspend(world, control)
    second_user(world, "P1")
    with at(date(2027, 9, 7)):
        data = {"resume_date": "2027-09-07", "to_grade": 3, "to_class_name": "2"}
        accepted = start_suspension(world, control, "resumption", **data)
        refused = start_suspension(world, student, "resumption", **data)
        assert accepted.status == refused.status == "running"
        accepted = decide(world, decide(world, accepted))
        refused = decide(world, decide(world, refused))
    assert accepted.status == "completed" and control.class_name == "2"
    assert open_steps(refused) == [("recheck_failed", "321202")]
    assert refused.data["check"]["rule"] == "class_size_cap"
    assert student.status == "suspended"


def test_class_size_cap_registration_counts_the_class_and_the_list(world):
    """新生注册 seats new pupils in classes too: 44 in 一(1)班 take one more, not two."""
    for _ in range(44):
        world.student("P1", grade=1, class_name="一(1)班")
    refused = submit(world, [admitted(1), admitted(2)])
    assert open_steps(refused) == [("fix_rows", "P1")]
    ((row, field, message),) = problems(refused)
    assert (row, field) == (2, "class_name")
    assert "class_size_cap" in message and "45 人" in message and "000 ⑦ 第八条" in message

    fixed = [admitted(1), admitted(2, class_name="一(2)班")]  # the control: the 45th seat
    accepted = review(world, resubmit(world, refused, fixed))
    assert accepted.status == "completed"
    assert (
        Student.query.filter_by(school_id=world.orgs["P1"].id, class_name="一(1)班").count() == 45
    )


def test_class_named_by_the_school_a_shandong_county_placed_the_student_in(world):
    variants.assign("3212", "shandong")
    db.session.commit()
    student = world.student("P1", grade=4)
    data = transfer_data(student, None, to_county_code="321203", to_class_name="")
    instance = act(world, engine.start("transfer", world.users["P1"], data))  # 海陵区 confirms
    (placing,) = engine.open_tasks(instance)
    county = world.users["321203"]  # 高港区 places the pupil at P3
    instance = engine.complete(placing.id, county, {"decision": "approve", "to_school_code": "P3"})
    assert open_steps(instance) == [("to_school_class", "P3")]
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Invalid) as refused:
        engine.complete(task.id, world.users["P3"], {"to_class_name": " "})
    assert "to_class_name" in refused.value.fields
    instance = engine.complete(task.id, world.users["P3"], {"to_class_name": "2"})
    assert (instance.status, student.school.code, student.class_name) == ("completed", "P3", "2")
