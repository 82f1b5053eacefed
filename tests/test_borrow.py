"""Borrow-study (借读) and its end (借读结束) through the real engine: paths and every rule."""

from types import SimpleNamespace

import pytest

import handlers
from handlers.borrow import BORROW_RULES
from handlers.borrow_return import RETURN_RULES
from handlers.school_rules import NO_OPEN_PROCEDURE
from webapp.extensions import db
from webapp.models import Instance, Notification, StatusHistory
from workflows import engine, jurisdiction
from workflows.errors import Conflict, Forbidden, Invalid, NotFound
from workflows.services import EngineContext as Context

from .flows import act, approve_all, borrow_data, enrol, evidence, open_steps, refused_correction

RESULTS = "语文 92，数学 88，英语 90；综合素质评定 A；2026 年校级三好学生。"


def start(world, student, host, **overrides):
    return engine.start("borrow", world.users[host], borrow_data(student, host, **overrides))


def borrowing(world, school="P1", host="P3", grade=4, **kw):
    """A student of `school` borrowing at `host` (the borrow-study approved end to end)."""
    enrol(world, host)
    student = world.student(school, grade=grade)
    instance = start(world, student, host, **kw)
    approve_all(world, instance)
    assert instance.status == "completed"
    return student


def start_return(world, student, by, **overrides):
    data = {"end_date": "2027-01-20", "results": RESULTS, **overrides}
    return engine.start("borrow_return", world.users[by], data, student_id=student.id)


# -- borrow: the paths ----------------------------------------------------------------------


def test_primary_full_approval_across_counties(world):
    enrol(world, "P3")
    student = world.student("P1", grade=4)
    instance = start(world, student, "P3")
    assert instance.school_id == world.orgs["P1"].id
    assert instance.partner_school_id == world.orgs["P3"].id
    path = approve_all(world, instance)
    assert path == [("from_school_review", "P1")]
    assert instance.status == "completed"
    assert student.borrow_host.code == "P3"
    assert (str(student.borrow_start), str(student.borrow_end)) == ("2026-09-01", "2027-07-10")
    assert student.school.code == "P1" and student.status == "enrolled" and student.grade == 4
    (row,) = StatusHistory.query.filter_by(student_id=student.id).all()
    assert row.procedure == "borrow"
    assert row.before == {"borrow_host_code": None, "borrow_start": None, "borrow_end": None}
    assert row.after == {
        "borrow_host_code": "P3",
        "borrow_start": "2026-09-01",
        "borrow_end": "2027-07-10",
    }
    notified = {n.org_id for n in Notification.query.filter_by(instance_id=instance.id)}
    assert notified == {world.orgs["P1"].id, world.orgs["P3"].id}
    assert instance.open_student_id is None


def test_senior_path_across_counties(world):
    enrol(world, "H2", grade=11)
    student = world.student("H1", grade=11)
    path = approve_all(world, start(world, student, "H2", category="parents_abroad"))
    assert path == [
        ("from_school_review", "H1"),
        ("from_county_review", "321202"),
        ("to_county_review", "321203"),
    ]
    assert student.borrow_host.code == "H2" and student.school.code == "H1"


def test_senior_inside_one_county_is_confirmed_once(world):
    enrol(world, "H3", grade=11)
    student = world.student("H2", grade=11)
    path = approve_all(world, start(world, student, "H3", category="martyr"))
    assert path == [("from_school_review", "H2"), ("from_county_review", "321203")]
    assert student.borrow_host.code == "H3"


@pytest.mark.parametrize("steps_before", [0, 1, 2])
def test_reject_at_every_review(world, steps_before):
    enrol(world, "H2", grade=11)
    student = world.student("H1", grade=11)
    instance = start(world, student, "H2", category="military")
    for _ in range(steps_before):
        instance = act(world, instance)
    step = open_steps(instance)[0][0]
    instance = act(world, instance, "reject", "不符合借读条件")
    assert instance.status == "rejected", step
    assert (instance.reason, instance.reason_message) == ("reviewer_rejected", "不符合借读条件")
    assert student.borrow_host_id is None
    assert StatusHistory.query.count() == 0
    assert instance.open_student_id is None


@pytest.mark.parametrize("steps_before", [0, 1, 2])
def test_return_and_resubmit_at_every_review(world, steps_before):
    enrol(world, "H2", grade=11)
    student = world.student("H1", grade=11)
    instance = start(world, student, "H2", category="military")
    for _ in range(steps_before):
        instance = act(world, instance)
    instance = act(world, instance, "return", "请补充父母现役军人证明")
    assert open_steps(instance) == [("correct_application", "H2")]
    instance = act(
        world,
        instance,
        category="military",
        start_date="2026-09-01",
        end_date="2027-01-31",
        note="已补充证明",
    )
    assert open_steps(instance) == [("from_school_review", "H1")]
    approve_all(world, instance)
    assert instance.status == "completed"
    assert str(student.borrow_end) == "2027-01-31"


def test_resubmission_is_checked_again(world):
    enrol(world, "H2", grade=11)
    student = world.student("H1", grade=11)
    instance = start(world, student, "H2", category="military")
    instance = act(world, instance, "return", "借读类别有误")
    dates = {"start_date": "2026-09-01", "end_date": "2027-07-10"}
    assert refused_correction(world, instance, category="other", **dates) == ["senior_category"]
    instance = act(world, instance, category="martyr", **dates)  # the control
    assert instance.status == "running" and open_steps(instance)[0][0] != "correct_application"


def test_finalize_is_idempotent(world):
    student = borrowing(world)
    instance = db.session.get(Instance, student.history[0].instance_id)
    again = handlers.HANDLERS["borrow.finalize"](Context(instance, None, instance.data))
    assert again == {"borrowing": True, "history_id": None}
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 1


# -- borrow: start data ---------------------------------------------------------------------


def test_end_date_must_follow_start_date(world):
    student = world.student("P1", grade=4)
    with pytest.raises(Invalid) as exc:
        start(world, student, "P3", start_date="2026-09-01", end_date="2026-09-01")
    assert exc.value.fields["end_date"] == ["借读结束日期必须晚于开始日期。"]


def test_host_school_must_be_the_callers_own(world):
    student = world.student("P1", grade=4)
    with pytest.raises(Invalid) as exc:
        engine.start("borrow", world.users["P3"], borrow_data(student, "P4"))
    assert "借读须由借读学校发起" in exc.value.fields["host_school_code"][0]
    with pytest.raises(Invalid) as exc:
        engine.start("borrow", world.users["P3"], borrow_data(student, "NOPE"))
    assert exc.value.fields["host_school_code"] == ["借读学校代码不存在。"]


def test_the_host_may_be_named_to_school_code_as_in_the_api_contract(world):
    enrol(world, "P3")
    student = world.student("P1", grade=4)
    data = borrow_data(student, "P3")
    data["to_school_code"] = data.pop("host_school_code")
    instance = engine.start("borrow", world.users["P3"], data)
    assert instance.status == "running" and instance.partner_school.code == "P3"


def test_student_is_named_by_id_number_and_exact_name(world):
    student = world.student("P1", grade=4)
    with pytest.raises(Invalid) as exc:
        start(world, student, "P3", name="别人")
    assert "id_number" in exc.value.fields


def test_only_schools_start_a_borrow(world):
    student = world.student("P1", grade=4)
    with pytest.raises(Forbidden):
        engine.start("borrow", world.users["321203"], borrow_data(student, "P3"))


# -- borrow: every automatic rule -----------------------------------------------------------


def _rejected_by(world, student, host, **overrides):
    instance = start(world, student, host, **overrides)
    assert instance.status == "rejected"
    assert engine.open_tasks(instance) == []
    assert instance.reason_message  # the rule's Chinese message
    assert StatusHistory.query.filter_by(instance_id=instance.id).count() == 0
    return instance.reason


def test_rule_names_are_the_documented_ones():
    assert BORROW_RULES.names() == [
        "active_status",
        "no_open_procedure",
        "suspended_studies_nowhere",  # issue 14: 000 第十八条, a new rule
        "same_school",
        "already_borrowing",
        "grade_unchanged",
        "stage_offered",
        "first_year_status",
        "same_area",
        "senior_category",
        "host_quota",
    ]
    assert RETURN_RULES.names() == [
        "no_open_procedure",
        "currently_borrowing",
        "end_date_after_start",
    ]


def test_rule_grade_unchanged(world):
    enrol(world, "P3")
    assert _rejected_by(world, world.student("P1", grade=4), "P3", grade=5) == "grade_unchanged"
    assert start(world, world.student("P1", grade=4), "P3", grade=4).status == "running"


def test_rule_stage_offered(world):
    enrol(world, "P3")
    assert _rejected_by(world, world.student("J1", grade=8), "P3") == "stage_offered"


def test_rule_same_area_for_primary_and_junior(world):
    enrol(world, "P2")
    assert _rejected_by(world, world.student("P1", grade=4), "P2") == "same_area"


def test_rule_host_quota(world):
    enrol(world, "P3", count=39)  # 5% of 39 is 1.95: one borrowing student
    first = start(world, world.student("P1", grade=4), "P3")
    assert first.status == "running"
    # the quota counts borrow-studies under way, not only those done
    assert _rejected_by(world, world.student("P1", grade=3), "P3") == "host_quota"
    approve_all(world, first)
    reason = _rejected_by(world, world.student("P1", grade=5), "P3")
    assert reason == "host_quota"
    instance = start(world, world.student("P1", grade=5), "P4")
    assert instance.reason == "host_quota"  # no enrolled students, no room
    assert "在籍 0 人" in instance.reason_message


def test_rule_host_quota_grows_with_enrolment(world):
    enrol(world, "P3", count=40)
    for grade in (3, 4):
        assert start(world, world.student("P1", grade=grade), "P3").status == "running"
    assert _rejected_by(world, world.student("P1", grade=5), "P3") == "host_quota"


def test_rule_first_year_status(world):
    enrol(world, "P3")
    student = world.student("P1", grade=1)
    student.status_number = None
    db.session.commit()
    assert _rejected_by(world, student, "P3") == "first_year_status"
    holder = world.student("P1", grade=1)  # holds a status number
    assert start(world, holder, "P3").status == "running"


@pytest.mark.parametrize("category", ["other", "migrant_worker"])
def test_rule_senior_category(world, category):
    enrol(world, "H2", grade=11)
    student = world.student("H1", grade=11)
    assert _rejected_by(world, student, "H2", category=category) == "senior_category"


def test_compulsory_may_borrow_for_other_reasons(world):
    enrol(world, "P3")
    instance = start(world, world.student("P1", grade=4), "P3", category="migrant_worker")
    assert instance.status == "running"


def test_rule_same_school(world):
    enrol(world, "P3")
    assert _rejected_by(world, world.student("P3", grade=4), "P3") == "same_school"


def test_rule_already_borrowing(world):
    student = borrowing(world)
    assert _rejected_by(world, student, "P4") == "already_borrowing"


def test_rule_active_status(world):
    enrol(world, "P3")
    student = world.student("P1", grade=4)
    instance = start(world, student, "P3")
    instance = act(world, instance, "return", "请核对")
    student.status = "withdrawn"  # withdrawn while the application was being corrected
    db.session.commit()
    dates = {"start_date": "2026-09-01", "end_date": "2027-07-10"}
    assert refused_correction(world, instance, category="other", **dates) == ["active_status"]


def test_rule_no_open_procedure(world):
    """The start guard answers 409 first; the shared rule is the backstop inside the checks."""
    enrol(world, "P3")
    student = world.student("P1", grade=4)
    first = start(world, student, "P3")
    with pytest.raises(Conflict, match="正在办理"):
        start(world, student, "P3")
    assert BORROW_RULES.rules[1] is NO_OPEN_PROCEDURE
    assert not NO_OPEN_PROCEDURE.check(SimpleNamespace(student=student, instance_id=first.id + 1))


# -- borrow_return --------------------------------------------------------------------------


def test_host_ends_the_borrowing_and_the_home_school_confirms(world):
    student = borrowing(world)
    files = evidence(world.users["P3"], "成绩单.pdf")
    instance = start_return(world, student, "P3", evidence=files)
    assert open_steps(instance) == [("from_school_confirm", "P1")]
    assert instance.data["initiator_side"] == "host"
    instance = act(world, instance)
    assert instance.status == "completed"
    assert student.borrow_host_id is None and student.borrow_start is None
    assert student.borrow_end is None
    assert student.school.code == "P1" and student.status == "enrolled"
    row = StatusHistory.query.filter_by(instance_id=instance.id).one()
    assert row.procedure == "borrow_return"
    assert row.before["borrow_host_code"] == "P3"
    assert row.after == {
        "borrow_host_code": None,
        "borrow_start": None,
        "borrow_end": None,
        "borrow_returned_on": "2027-01-20",
        "borrow_results": RESULTS,
    }
    assert instance.data["evidence"] == files
    notified = {n.org_id for n in Notification.query.filter_by(instance_id=instance.id)}
    assert notified == {world.orgs["P1"].id, world.orgs["P3"].id}
    # the host no longer reaches the record
    assert jurisdiction.student_or_none(world.users["P3"], student.id) is None


def test_home_school_ends_the_borrowing_and_the_host_confirms(world):
    student = borrowing(world)
    instance = start_return(world, student, "P1")
    assert instance.data["initiator_side"] == "home"
    path = approve_all(world, instance)
    assert path == [("to_school_confirm", "P3")]
    assert instance.status == "completed" and student.borrow_host_id is None


@pytest.mark.parametrize(("by", "confirmer"), [("P3", "P1"), ("P1", "P3")])
def test_return_reject_at_the_confirmation(world, by, confirmer):
    student = borrowing(world)
    instance = start_return(world, student, by)
    assert open_steps(instance)[0][1] == confirmer
    instance = act(world, instance, "reject", "借读期未满")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert student.borrow_host.code == "P3"
    assert StatusHistory.query.filter_by(instance_id=instance.id).count() == 0


@pytest.mark.parametrize(
    ("by", "correction"), [("P3", "correct_by_host"), ("P1", "correct_by_home")]
)
def test_return_goes_back_to_the_starter_and_is_resubmitted(world, by, correction):
    student = borrowing(world)
    instance = start_return(world, student, by, results="成绩待补")
    confirm = open_steps(instance)
    instance = act(world, instance, "return", "请填写完整的成绩和奖惩记录")
    assert open_steps(instance) == [(correction, by)]
    instance = act(world, instance, end_date="2027-01-25", results=RESULTS)
    assert open_steps(instance) == confirm
    instance = act(world, instance)
    assert instance.status == "completed"
    row = StatusHistory.query.filter_by(instance_id=instance.id).one()
    assert row.after["borrow_results"] == RESULTS
    assert row.after["borrow_returned_on"] == "2027-01-25"


def test_return_finalize_is_idempotent(world):
    student = borrowing(world)
    instance = start_return(world, student, "P1")
    approve_all(world, instance)
    again = handlers.HANDLERS["borrow_return.finalize"](Context(instance, None, instance.data))
    assert again == {"borrowing": False, "history_id": None}
    row = StatusHistory.query.filter_by(instance_id=instance.id).one()
    assert row.after["borrow_results"] == RESULTS


def test_return_resubmission_is_checked_again(world):
    student = borrowing(world)
    instance = start_return(world, student, "P3")
    instance = act(world, instance, "return", "日期有误")
    assert refused_correction(world, instance, end_date="2026-08-01", results=RESULTS) == [
        "end_date_after_start"
    ]


def test_rule_currently_borrowing(world):
    student = world.student("P1", grade=4)
    instance = start_return(world, student, "P1")
    assert (instance.status, instance.reason) == ("rejected", "currently_borrowing")
    assert engine.open_tasks(instance) == []
    assert instance.reason_message == "该学生目前不在借读，无需办理借读结束。"


def test_rule_end_date_after_start(world):
    student = borrowing(world)
    instance = start_return(world, student, "P3", end_date="2026-08-31")
    assert (instance.status, instance.reason) == ("rejected", "end_date_after_start")
    assert "2026-09-01" in instance.reason_message
    assert student.borrow_host.code == "P3"


def test_rule_no_open_procedure_on_return(world):
    student = borrowing(world)
    first = start_return(world, student, "P3")
    with pytest.raises(Conflict):
        start_return(world, student, "P1")
    facts = SimpleNamespace(student=student, instance_id=first.id + 1)
    assert RETURN_RULES.rules[0] is NO_OPEN_PROCEDURE and not NO_OPEN_PROCEDURE.check(facts)


def test_borrowing_ends_even_when_the_status_has_ended(world):
    """No active-status rule: a cancelled record must not stay on the host's roll."""
    student = borrowing(world)
    student.status = "cancelled"
    db.session.commit()
    instance = start_return(world, student, "P1")
    approve_all(world, instance)
    assert instance.status == "completed" and student.borrow_host_id is None


def test_return_form_requires_the_results(world):
    student = borrowing(world)
    with pytest.raises(Invalid) as exc:
        start_return(world, student, "P3", results="   ")
    assert exc.value.fields["results"] == ["请填写借读期间的成绩、评定和奖惩记录。"]


def test_only_the_two_schools_may_end_it(world):
    student = borrowing(world)
    with pytest.raises(NotFound):
        start_return(world, student, "P4")
    with pytest.raises(Forbidden):
        start_return(world, student, "321203")


def test_host_may_not_start_procedures_of_the_home_school(world):
    student = borrowing(world)
    assert jurisdiction.student_or_none(world.users["P3"], student.id) is not None
    with pytest.raises(Forbidden, match="学籍所在学校"):
        engine.start(
            "cancellation",
            world.users["P3"],
            {"reason": "death", "evidence": evidence(world.users["P3"])},
            student_id=student.id,
        )


# -- the API --------------------------------------------------------------------------------


def test_api_lists_and_starts_both_procedures(api, world):
    items = api("uP3").get("/api/v1/procedures").get_json()["items"]
    assert {"key": "borrow", "name": "借读", "version": 1} in items
    assert {"key": "borrow_return", "name": "借读结束", "version": 1} in items
    assert api("u321203").get("/api/v1/procedures").get_json()["items"] == []

    enrol(world, "P3")
    student = world.student("P1", grade=4)
    as_p3 = api("uP3")
    resp = as_p3.post(
        "/api/v1/instances", json={"procedure": "borrow", "data": borrow_data(student, "P3")}
    )
    assert resp.status_code == 201, resp.get_json()
    task_id = resp.get_json()["current_tasks"][0]["id"]
    done = api("uP1").post(
        f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}}
    )
    assert done.get_json()["status"] == "completed"
    record = as_p3.get(f"/api/v1/students/{student.id}").get_json()
    assert record["borrowing"] == {
        "host_school_code": "P3",
        "start_date": "2026-09-01",
        "end_date": "2027-07-10",
    }
    resp = as_p3.post(
        "/api/v1/instances",
        json={
            "procedure": "borrow_return",
            "student_id": student.id,
            "data": {"end_date": "2027-07-10", "results": RESULTS},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["current_tasks"][0]["org_code"] == "P1"
    bad = as_p3.post(
        "/api/v1/instances",
        json={"procedure": "borrow", "data": borrow_data(student, "P3", end_date="2026-01-01")},
    )
    assert bad.status_code == 422 and "end_date" in bad.get_json()["error"]["fields"]


def test_a_borrowing_student_is_transferred_only_after_the_return(world):
    """The transfer rule `already_borrowing`: the borrowing ends before the record moves."""
    from .flows import transfer_data

    student = world.student("P1", grade=4)
    student.borrow_host_id = world.orgs["P4"].id
    db.session.commit()
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    assert (instance.status, instance.reason) == ("rejected", "already_borrowing")


def test_withdrawal_ends_the_borrowing_and_tells_the_host(world):
    from webapp.models import Notification

    from .flows import evidence

    student = world.student("H1", grade=11)
    student.borrow_host_id = world.orgs["H2"].id
    db.session.commit()
    instance = engine.start(
        "withdrawal",
        world.users["H1"],
        {"reason": "personal", "evidence": evidence(world.users["H1"])},
        student_id=student.id,
    )
    world.user("uH1b", "H1", "school")
    for username in ("uH1b", "321202"):
        (task,) = engine.open_tasks(instance)
        instance = engine.complete(task.id, world.users[username], {"decision": "approve"})
    assert (student.status, student.borrow_host_id) == ("withdrawn", None)
    assert Notification.query.filter_by(org_id=world.orgs["H2"].id).count() == 1
