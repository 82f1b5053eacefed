"""Skip a grade (跳级): paths, four-eyes, the local switch and every rule."""

import pytest

from handlers.school_rules import CLASS_CAPS
from handlers.skip_grade import SKIP_GRADE_RULES, SkipGradeFacts, finalize_skip_grade
from webapp.extensions import db
from webapp.models import AuditLog, HumanTask, InstanceEvent, StatusHistory
from workflows import deploy, engine
from workflows.errors import Conflict, Forbidden, Invalid, Refused
from workflows.services import EngineContext as Context

from .flows import evidence, four_eyes_through_the_api, open_steps, review, second_user


def start(world, student, to_grade=None, to_class_name="2", school=None, **extra):
    school = school or student.school.code
    user = world.users[school]
    data = {
        "to_grade": student.grade + 1 if to_grade is None else to_grade,
        "to_class_name": to_class_name,
        "evidence": evidence(user, "监护人申请.pdf"),
        **extra,
    }
    return engine.start("skip_grade", user, data, student_id=student.id)


def approve_to_end(world, instance):
    school = instance.school.code
    instance = review(world, instance, second_user(world, school))
    return review(world, instance, instance.school.ancestor("county").code)


# -- paths ----------------------------------------------------------------------------------


def test_full_path_school_then_county_then_grade_and_class_change(world):
    student = world.student("P1", grade=3, class_name="1")
    instance = start(world, student, to_class_name="2")
    assert instance.status == "running"
    assert instance.data["allow_skip_grade"] is True  # the default table's local switch
    assert open_steps(instance) == [("school_review", "P1")]
    instance = review(world, instance, "uP1b")
    assert open_steps(instance) == [("county_review", "321202")]
    assert student.grade == 3  # nothing changes before the final step
    instance = review(world, instance, "321202")
    assert instance.status == "completed" and instance.open_student_id is None
    assert (student.grade, student.class_name) == (4, "2")
    (row,) = StatusHistory.query.filter_by(student_id=student.id).all()
    assert (row.procedure, row.instance_id) == ("skip_grade", instance.id)
    assert (row.before, row.after) == (
        {"grade": 3, "class_name": "1"},
        {"grade": 4, "class_name": "2"},
    )
    checks = [
        (e.step, e.decision)
        for e in InstanceEvent.query.filter_by(instance_id=instance.id).order_by(InstanceEvent.id)
        if e.step in ("check_rules", "recheck_rules")
    ]
    assert checks == [("check_rules", "pass"), ("recheck_rules", "pass")]


def test_final_step_changes_the_record_once(world):
    student = world.student("P1", grade=3)
    instance = approve_to_end(world, start(world, student))
    assert student.grade == 4
    again = finalize_skip_grade(Context(instance, world.users["321202"], instance.data))
    db.session.commit()
    assert again["history_id"] is None
    assert student.grade == 4
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 1


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_reject_at_every_review(world, step):
    student = world.student("J1", grade=7)
    instance = start(world, student)
    reviewer = second_user(world, "J1")
    if step == "county_review":
        instance = review(world, instance, reviewer)
        reviewer = "321202"
    instance = review(world, instance, reviewer, "reject", "监护人申请未签字")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert instance.reason_message == "监护人申请未签字"
    assert student.grade == 7
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 0


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_return_and_resubmit_runs_the_checks_again(world, step):
    student = world.student("P1", grade=2, class_name="1")
    instance = start(world, student, to_class_name="9")
    reviewer = "uP1b"
    if step == "county_review":
        instance = review(world, instance, reviewer)
        reviewer = "321202"
    instance = review(world, instance, reviewer, "return", "请写明编入的班级")
    assert open_steps(instance) == [("correct_application", "P1")]
    (task,) = engine.open_tasks(instance)
    instance = engine.complete(
        task.id,
        world.users["P1"],
        {"to_grade": 3, "to_class_name": "3", "evidence": evidence(world.users["P1"])},
    )
    assert open_steps(instance) == [("school_review", "P1")]
    instance = approve_to_end(world, instance)
    assert instance.status == "completed"
    assert (student.grade, student.class_name) == (3, "3")


def test_a_resubmission_that_breaks_a_rule_is_refused_on_the_form(world):
    """A correction is checked before it is submitted: the step stays open, nothing ends."""
    student = world.student("P1", grade=2)
    instance = start(world, student)
    instance = review(world, instance, "uP1b", "return", "年级填写有误")
    (task,) = engine.open_tasks(instance)
    school = world.users["P1"]
    with pytest.raises(Refused) as refused:
        engine.complete(
            task.id, school, {"to_grade": 4, "to_class_name": "1", "evidence": evidence(school)}
        )
    assert [r.rule for r in refused.value.refusals] == ["one_grade_up"]
    assert "跳级只跳一个年级" in refused.value.fields["to_grade"][0]
    db.session.refresh(instance)
    assert (instance.status, open_steps(instance)) == ("running", [("correct_application", "P1")])
    (attempt,) = AuditLog.query.filter_by(action="skip_grade.correction_refused").all()
    assert attempt.user_id == school.id
    instance = engine.complete(  # the control: the grade corrected, the case goes on
        task.id, school, {"to_grade": 3, "to_class_name": "1", "evidence": evidence(school)}
    )
    assert open_steps(instance) == [("school_review", "P1")]


# -- four-eyes ------------------------------------------------------------------------------


def test_four_eyes_the_entering_user_cannot_review(world):
    student = world.student("P1", grade=3)
    instance = start(world, student)
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Forbidden, match="四眼原则"):
        engine.complete(task.id, world.users["P1"], {"decision": "approve"})
    instance = engine.complete(task.id, world.users["uP1b"], {"decision": "approve"})
    assert open_steps(instance) == [("county_review", "321202")]


def test_four_eyes_through_the_api_is_403(api, world):
    student = world.student("P1", grade=3)
    data = {"to_grade": 4, "to_class_name": "1"}
    resp = four_eyes_through_the_api(api, student, "skip_grade", data, "监护人申请.pdf")
    assert resp.status_code == 200, resp.get_json()
    assert [t["org_code"] for t in resp.get_json()["current_tasks"]] == ["321202"]


def test_procedures_list_offers_both_record_changes_to_schools_only(api, world):
    keys = {i["key"]: i for i in api("uP1").get("/api/v1/procedures").get_json()["items"]}
    assert keys["skip_grade"] == {"key": "skip_grade", "name": "跳级", "version": 1}
    assert keys["info_change"] == {"key": "info_change", "name": "学籍信息变更", "version": 1}
    assert api("u321202").get("/api/v1/procedures").get_json()["items"] == []


# -- the local switch (shandong: 不跳级) ------------------------------------------------------


def test_a_variant_that_forbids_skipping_rejects_before_anyone_is_asked(world):
    bpmn, dmn = deploy.read_files("skip_grade")
    table = dmn["skip_grade_policy.dmn"]
    assert table.count("<text>True</text>") == 1
    dmn["skip_grade_policy.dmn"] = table.replace("<text>True</text>", "<text>False</text>")
    forbidding = deploy.deploy("skip_grade", bpmn, dmn)
    db.session.commit()
    assert forbidding.version == 2
    student = world.student("P1", grade=3)
    instance = start(world, student)
    assert instance.process_version_id == forbidding.id
    assert (instance.status, instance.reason) == ("rejected", "skip_grade_allowed")
    assert "不允许跳级" in instance.reason_message
    assert engine.open_tasks(instance) == []
    assert HumanTask.query.filter_by(instance_id=instance.id).count() == 0
    assert student.grade == 3


# -- every rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(("grade", "to_grade"), [(3, 5), (3, 3), (3, 2), (8, 10)])
def test_rule_one_grade_up(world, grade, to_grade):
    school = "P1" if grade <= 6 else "J1"
    student = world.student(school, grade=grade)
    instance = start(world, student, to_grade=to_grade)
    assert (instance.status, instance.reason) == ("rejected", "one_grade_up")
    assert f"现为 {grade} 年级" in instance.reason_message
    assert HumanTask.query.filter_by(instance_id=instance.id).count() == 0


@pytest.mark.parametrize(
    ("school", "grade", "allowed"),
    [("P1", 6, False), ("J1", 9, False), ("P1", 5, True), ("J1", 7, True), ("H1", 10, True)],
)
def test_rule_same_stage(world, school, grade, allowed):
    student = world.student(school, grade=grade)
    instance = start(world, student)
    if allowed:
        assert instance.status == "running"
    else:
        assert (instance.status, instance.reason) == ("rejected", "same_stage")


def test_rule_senior_year_three_cannot_skip(world):
    student = world.student("H1", grade=12)
    with pytest.raises(Invalid) as exc:  # grade 13 does not exist: a form error
        start(world, student)
    assert "to_grade" in exc.value.fields


def test_rule_active_status(world):
    student = world.student("P1", grade=3, status="withdrawn")
    instance = start(world, student)
    assert (instance.status, instance.reason) == ("rejected", "active_status")


def test_rule_enrolled_status_a_suspended_student_cannot_skip(world):
    student = world.student("P1", grade=3, status="suspended")
    instance = start(world, student)
    assert (instance.status, instance.reason) == ("rejected", "enrolled_status")
    assert "休学" in instance.reason_message


def test_rule_no_open_procedure(world):
    """The start guard answers 409 first; the rule is the backstop inside the checks."""
    student = world.student("P1", grade=3)
    first = start(world, student)
    with pytest.raises(Conflict):
        start(world, student)
    facts = SkipGradeFacts(first.id + 1, student, 4, "1", True)
    assert SKIP_GRADE_RULES.first_failure(facts).rule == "no_open_procedure"
    assert SKIP_GRADE_RULES.first_failure(SkipGradeFacts(first.id, student, 4, "1", True)).ok


def test_rule_class_size_cap(world, monkeypatch):
    monkeypatch.setitem(CLASS_CAPS, "primary", 2)
    for _ in range(2):
        world.student("P1", grade=4, class_name="2")
    student = world.student("P1", grade=3)
    instance = start(world, student, to_class_name="2")
    assert (instance.status, instance.reason) == ("rejected", "class_size_cap")
    assert "2 人" in instance.reason_message
    other = world.student("P1", grade=3)
    assert start(world, other, to_class_name="3").status == "running"


def test_rule_class_size_cap_at_the_real_limit(world):
    for _ in range(CLASS_CAPS["junior"] - 1):
        world.student("J1", grade=8, class_name="5")
    assert start(world, world.student("J1", grade=7), to_class_name="5").status == "running"
    world.student("J1", grade=8, class_name="5")
    instance = start(world, world.student("J1", grade=7), to_class_name="5")
    assert (instance.status, instance.reason) == ("rejected", "class_size_cap")
    assert "50 人" in instance.reason_message


def test_the_class_filling_up_during_review_is_caught_before_the_record_changes(world, monkeypatch):
    """The recheck fails on the class the school typed: the county is offered a return for
    correction; the school names another class and the case goes through."""
    monkeypatch.setitem(CLASS_CAPS, "primary", 2)
    world.student("P1", grade=4, class_name="2")
    student = world.student("P1", grade=3)
    instance = start(world, student, to_class_name="2")
    instance = review(world, instance, "uP1b")
    world.student("P1", grade=4, class_name="2")  # placed by another procedure meanwhile
    instance = review(world, instance, "321202")
    assert instance.status == "running"
    assert open_steps(instance) == [("recheck_failed", "321202")]
    assert (instance.data["check"]["rule"], instance.data["check"]["correctable"]) == (
        "class_size_cap",
        True,
    )
    assert student.grade == 3
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 0
    instance = review(world, instance, "321202", "return", "2 班已满，请改编其他班级")
    assert open_steps(instance) == [("correct_application", "P1")]
    (task,) = engine.open_tasks(instance)
    school = world.users["P1"]
    engine.complete(
        task.id, school, {"to_grade": 4, "to_class_name": "3", "evidence": evidence(school)}
    )
    instance = approve_to_end(world, instance)
    assert instance.status == "completed"
    assert (student.grade, student.class_name) == (4, "3")


def test_a_recheck_the_school_cannot_correct_ends_the_case(world):
    """Only a rule about what was typed is offered for correction: a student suspended
    meanwhile ends the case at the recheck, as before."""
    student = world.student("P1", grade=3)
    instance = review(world, start(world, student), "uP1b")
    student.status = "suspended"
    db.session.commit()
    instance = review(world, instance, "321202")
    assert (instance.status, instance.reason) == ("rejected", "enrolled_status")
    assert instance.data["check"]["correctable"] is False


def test_the_county_may_end_a_case_whose_recheck_failed(world, monkeypatch):
    monkeypatch.setitem(CLASS_CAPS, "primary", 1)
    student = world.student("P1", grade=3)
    instance = review(world, start(world, student, to_class_name="2"), "uP1b")
    world.student("P1", grade=4, class_name="2")
    instance = review(world, instance, "321202")
    with pytest.raises(Invalid) as exc:  # ending it says why
        review(world, instance, "321202", "reject")
    assert "理由" in exc.value.fields["comment"][0]
    instance = review(world, instance, "321202", "reject", "班额已满，本学期不再办理")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert student.grade == 3


# -- form -----------------------------------------------------------------------------------


def test_form_errors_name_the_field(world):
    student = world.student("P1", grade=3)
    with pytest.raises(Invalid) as exc:
        engine.start(
            "skip_grade",
            world.users["P1"],
            {"to_grade": "四", "to_class_name": " "},
            student_id=student.id,
        )
    assert set(exc.value.fields) == {"to_grade", "to_class_name", "evidence"}
