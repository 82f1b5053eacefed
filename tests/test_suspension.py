"""Suspension (休学) and resumption (复学): paths, the re-examination loop, every rule, and
the end-date timers with time moved forward (never slept)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from webapp.extensions import db
from webapp.models import CHINA, Certificate, Instance, StatusHistory
from workflows import engine
from workflows.errors import Conflict, Forbidden, Refused

from .flows import open_steps
from .test_status_change import upload

START = date(2026, 9, 7)


def suspension_data(user, **extra) -> dict:
    data = {
        "reason": "illness",
        "absence_hours": 220,
        "start_date": START.isoformat(),
        "evidence": [upload(user)],
    }
    data.update(extra)
    return data


def start(world, student, procedure="suspension", school=None, **extra) -> Instance:
    user = world.users[school or student.school.code]
    data = suspension_data(user, **extra) if procedure == "suspension" else extra
    if procedure == "resumption":
        data.setdefault("evidence", [upload(user)])
    return engine.start(procedure, user, data, student_id=student.id)


def second_user(world, school: str):
    name = f"u{school}b"
    return world.users.get(name) or world.user(name, school, "school")


def answer(world, instance, data: dict) -> Instance:
    """Complete the instance's single open step as a user who may (never its initiator)."""
    (task,) = engine.open_tasks(instance)
    user = next(
        u
        for u in world.users.values()
        if u.org_id == task.org_id and u.role == task.role and u.id != instance.initiator_id
    )
    return engine.complete(task.id, user, data)


def decide(world, instance, decision="approve", comment="", **data) -> Instance:
    """`answer`, with a decision and comment on review steps."""
    (task,) = engine.open_tasks(instance)
    if task.form_key.startswith("review"):
        data = {"decision": decision, "comment": comment, **data}
    return answer(world, instance, data)


def acknowledge(world, instance, comment="") -> Instance:
    """The school answers the end-date reminder: it will handle the resumption."""
    return answer(world, instance, {"decision": "acknowledge", "comment": comment})


def suspend(world, student, **extra) -> Instance:
    second_user(world, student.school.code)
    instance = start(world, student, **extra)
    instance = decide(world, instance)  # school review
    return decide(world, instance)  # county review


def at(day: date, hour: int = 9):
    """Travel to a Beijing-time moment; the clock stands still there."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=CHINA), tick=False
    )


# -- suspension paths ----------------------------------------------------------------------


def test_full_path_sets_status_end_date_and_certificate(world):
    student = world.student("J1", grade=8)
    second_user(world, "J1")
    instance = start(world, student)
    assert open_steps(instance) == [("school_review", "J1")]
    instance = decide(world, instance)
    assert open_steps(instance) == [("county_review", "321202")]
    instance = decide(world, instance)
    assert student.status == "suspended"
    assert student.suspended_until == date(2027, 9, 7)
    (row,) = StatusHistory.query.filter_by(student_id=student.id).all()
    assert row.after == {"status": "suspended", "suspended_until": "2027-09-07"}
    (cert,) = Certificate.query.filter_by(student_id=student.id).all()
    assert cert.kind == "休学证明" and cert.number.endswith(f"{instance.id:06d}")
    # The instance now waits on the end date, and no longer holds the student.
    assert instance.status == "running" and instance.open_student_id is None
    assert open_steps(instance) == []
    assert instance.wake_at == datetime(2027, 9, 6, 16, 0)  # 2027-09-07 00:00 Beijing, in UTC


def test_certificate_numbers_are_unique(world):
    numbers = {
        Certificate.query.filter_by(instance_id=suspend(world, world.student("J1", grade=7)).id)
        .one()
        .number
        for _ in range(3)
    }
    assert len(numbers) == 3


def test_county_orders_reexamination_then_approves(world):
    student = world.student("P1", grade=3)
    instance = start(world, student)
    instance = decide(world, instance)
    instance = decide(world, instance, "reexamine", "请到市第一人民医院复查")
    assert open_steps(instance) == [("reexamination", "P1")]
    (task,) = engine.open_tasks(instance)
    assert task.form_key == "suspension_reexamination"
    instance = decide(world, instance, evidence=[upload(world.users["P1"])], note="复查报告")
    assert open_steps(instance) == [("county_review", "321202")]
    instance = decide(world, instance)
    assert student.status == "suspended"
    steps = [e.step for e in instance.events if e.user_id]
    assert steps == ["start", "school_review", "county_review", "reexamination", "county_review"]


def test_reexamination_needs_new_evidence(world):
    from workflows.errors import Invalid

    student = world.student("P1", grade=3)
    instance = decide(world, decide(world, start(world, student)), "reexamine", "复查")
    with pytest.raises(Invalid) as err:
        decide(world, instance, note="忘了附件")
    assert "evidence" in err.value.fields


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_rejection_at_each_review(world, step):
    student = world.student("P1", grade=3)
    instance = start(world, student)
    if step == "county_review":
        instance = decide(world, instance)
    instance = decide(world, instance, "reject", "证明材料不足")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert instance.reason_message == "证明材料不足"
    assert student.status == "enrolled" and StatusHistory.query.count() == 0


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_return_and_resubmit(world, step):
    student = world.student("P1", grade=3)
    instance = start(world, student)
    if step == "county_review":
        instance = decide(world, instance)
    instance = decide(world, instance, "return", "缺课课时填写有误")
    assert open_steps(instance) == [("correct_application", "P1")]
    instance = decide(world, instance, **suspension_data(world.users["P1"], absence_hours=230))
    assert open_steps(instance) == [("school_review", "P1")]
    instance = decide(world, decide(world, instance))
    assert student.status == "suspended"


def test_resubmission_is_checked_again(world):
    student = world.student("P1", grade=3)
    instance = decide(world, start(world, student), "return", "核对课时")
    with pytest.raises(Refused) as refused:  # refused on the form: the step stays open
        decide(world, instance, **suspension_data(world.users["P1"], absence_hours=100))
    assert [r.rule for r in refused.value.refusals] == ["absence_threshold"]
    db.session.refresh(instance)
    assert open_steps(instance) == [("correct_application", "P1")]
    instance = decide(world, instance, **suspension_data(world.users["P1"]))  # the control
    assert instance.status == "running" and open_steps(instance)[0][0] != "correct_application"


def test_four_eyes_the_entering_user_cannot_review(world):
    student = world.student("P1", grade=3)
    instance = start(world, student)
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Forbidden, match="四眼原则"):
        engine.complete(task.id, world.users["P1"], {"decision": "approve"})


def test_four_eyes_in_the_api_is_403(world, api):
    student = world.student("P1", grade=3)
    instance = start(world, student)
    (task,) = engine.open_tasks(instance)
    resp = api("uP1").post(
        f"/api/v1/tasks/{task.id}/complete", json={"data": {"decision": "approve"}}
    )
    assert resp.status_code == 403
    assert "四眼原则" in resp.get_json()["error"]["message"]
    resp = api("uP1b").post(
        f"/api/v1/tasks/{task.id}/complete", json={"data": {"decision": "approve"}}
    )
    assert resp.status_code == 200


def test_abroad_counts_from_approval(world):
    student = world.student("P1", grade=3)
    with at(date(2026, 10, 12)):
        suspend(world, student, reason="abroad", absence_hours=0, start_date="2026-06-01")
    assert student.suspended_until == date(2027, 10, 12)


# -- suspension rules ----------------------------------------------------------------------


def reason_of(world, student, **extra) -> str | None:
    instance = start(world, student, **extra)
    return instance.reason if instance.status == "rejected" else None


def test_rule_enrolled_status(world):
    student = world.student("P1", grade=3, status="suspended")
    assert reason_of(world, student) == "enrolled_status"


def test_rule_no_open_procedure(world):
    student = world.student("P1", grade=3)
    start(world, student)
    with pytest.raises(Conflict, match="正在办理"):
        start(world, student)


@pytest.mark.parametrize("grade", [6, 9, 12])
def test_rule_graduating_year(world, grade):
    school = {6: "P1", 9: "J1", 12: "H1"}[grade]
    student = world.student(school, grade=grade)
    assert reason_of(world, student, year_hours=600) == "graduating_year"


def test_rule_absence_threshold_compulsory(world):
    assert reason_of(world, world.student("P1", grade=3), absence_hours=210) == "absence_threshold"
    assert reason_of(world, world.student("P1", grade=3), absence_hours=211) is None


def test_rule_absence_threshold_senior(world):
    h = world.student
    assert reason_of(world, h("H1", grade=10), absence_hours=200, year_hours=600) == (
        "absence_threshold"
    )
    assert reason_of(world, h("H1", grade=10), absence_hours=201, year_hours=600) is None
    # Senior high must state the year's hours.
    assert reason_of(world, h("H1", grade=10), absence_hours=500) == "absence_threshold"


@pytest.mark.parametrize(
    ("reason", "extra"), [("abroad", {}), ("military", {"service_months": 24})]
)
def test_abroad_and_military_have_no_threshold(world, reason, extra):
    student = world.student("H1", grade=10)
    assert reason_of(world, student, reason=reason, absence_hours=0, **extra) is None


def test_rule_suspension_total_senior_two_years(world):
    student = world.student("H1", grade=10)
    for year in (2026, 2027):
        with at(date(year, 9, 1)):
            suspend(world, student, year_hours=600, absence_hours=300)
        student.status, student.suspended_until = "enrolled", None  # as if resumed
        db.session.commit()
    assert reason_of(world, student, year_hours=600, absence_hours=300) == "suspension_total"


# -- the end date: reminder and automatic withdrawal ---------------------------------------


def test_reminder_task_appears_at_the_end_date(world):
    student = world.student("P1", grade=3)
    instance = suspend(world, student)
    with at(date(2027, 9, 6)):
        assert engine.fire_due_timers() == []
    assert open_steps(instance) == []
    with at(date(2027, 9, 7)):
        assert engine.fire_due_timers() == [instance.id]
    assert open_steps(instance) == [("resumption_reminder", "P1")]
    instance = acknowledge(world, instance, "已通知监护人")
    assert instance.status == "completed"
    assert instance.wake_at is None


def test_senior_without_resumption_is_withdrawn_a_month_later(world):
    student = world.student("H1", grade=11)
    instance = suspend(world, student, year_hours=600, absence_hours=300)
    with at(date(2027, 9, 8)):
        engine.fire_due_timers()
    assert open_steps(instance) == [("resumption_reminder", "H1")]
    with at(date(2027, 10, 6)):
        assert engine.fire_due_timers() == []
    with at(date(2027, 10, 7)):
        assert engine.fire_due_timers() == [instance.id]
    withdrawal = Instance.query.filter_by(procedure="withdrawal").one()
    assert withdrawal.initiator_id is None
    assert withdrawal.data["reason"] == "suspension_not_resumed"
    assert open_steps(withdrawal) == [("school_review", "H1")]
    assert any("系统自动发起退学" in e.name for e in withdrawal.events)
    # Any registrar of the school may review it: nobody entered it.
    withdrawal = decide(world, decide(world, withdrawal))
    assert student.status == "withdrawn"
    instance = acknowledge(world, instance)  # the reminder is still the school's to close
    assert instance.status == "completed"


def test_compulsory_is_never_withdrawn_automatically(world):
    student = world.student("J1", grade=8)
    instance = suspend(world, student)
    with at(date(2027, 12, 1)):
        engine.fire_due_timers()
    assert open_steps(instance) == [("resumption_reminder", "J1")]
    assert instance.wake_at is None
    assert Instance.query.filter_by(procedure="withdrawal").count() == 0


def test_senior_who_resumes_in_time_is_not_withdrawn(world):
    student = world.student("H1", grade=11)
    suspend(world, student, year_hours=600, absence_hours=300)
    with at(date(2027, 9, 8)):
        engine.fire_due_timers()
        resumption = start(world, student, "resumption", resume_date="2027-09-08", to_grade=12)
    with at(date(2027, 10, 8)):
        engine.fire_due_timers()
    assert Instance.query.filter_by(procedure="withdrawal").count() == 0
    assert resumption.status == "running"


def test_student_back_in_school_gets_no_reminder(world):
    """A student back in school (here: status set by an earlier resumption) needs no reminder."""
    student = world.student("P1", grade=3)
    instance = suspend(world, student)
    with at(date(2027, 9, 7)):
        start_and_approve_resumption(world, student, resume_date="2027-09-07")
    with at(date(2027, 9, 8)):
        engine.fire_due_timers()
    assert instance.status == "completed" and open_steps(instance) == []


def test_reminder_goes_to_the_school_the_student_moved_to(world):
    from .flows import approve_all, transfer_data

    student = world.student("P1", grade=4)
    suspend(world, student)
    transfer = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    approve_all(world, transfer)
    assert student.school.code == "P3" and student.status == "suspended"
    with at(date(2027, 9, 7)):
        engine.fire_due_timers()
    reminder = Instance.query.filter_by(procedure="suspension").one()
    assert open_steps(reminder) == [("resumption_reminder", "P3")]
    with at(date(2027, 9, 8)):
        resumption = start_and_approve_resumption(world, student, resume_date="2027-09-08")
    assert resumption.school.code == "P3" and student.status == "enrolled"


# -- resumption ----------------------------------------------------------------------------


def start_and_approve_resumption(world, student, **data) -> Instance:
    data.setdefault("to_grade", student.grade)
    second_user(world, student.school.code)
    instance = start(world, student, "resumption", **data)
    return decide(world, decide(world, instance))


def test_resumption_full_path(world):
    student = world.student("P1", grade=3, class_name="2")
    suspend(world, student)
    with at(date(2027, 9, 7)):
        instance = start(world, student, "resumption", resume_date="2027-09-07", to_grade=3)
        assert open_steps(instance) == [("school_review", "P1")]
        instance = decide(world, instance)
        assert open_steps(instance) == [("county_review", "321202")]
        instance = decide(world, instance)
    assert instance.status == "completed"
    assert (student.status, student.grade, student.class_name) == ("enrolled", 3, "2")
    assert student.suspended_until is None
    row = StatusHistory.query.filter_by(instance_id=instance.id).one()
    assert row.before["status"] == "suspended" and row.after["status"] == "enrolled"


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_resumption_rejection_at_each_review(world, step):
    student = world.student("P1", grade=3)
    suspend(world, student)
    with at(date(2027, 9, 7)):
        second_user(world, "P1")
        instance = start(world, student, "resumption", resume_date="2027-09-07", to_grade=3)
        if step == "county_review":
            instance = decide(world, instance)
        instance = decide(world, instance, "reject", "未附康复证明")
    assert instance.reason == "reviewer_rejected" and student.status == "suspended"


def test_resumption_return_and_resubmit(world):
    student = world.student("P1", grade=3)
    suspend(world, student)
    with at(date(2027, 9, 7)):
        second_user(world, "P1")
        instance = start(world, student, "resumption", resume_date="2027-09-07", to_grade=3)
        instance = decide(world, decide(world, instance), "return", "请补充康复证明")
        assert open_steps(instance) == [("correct_application", "P1")]
        evidence = [upload(world.users["P1"])]
        instance = decide(world, instance, resume_date="2027-09-07", to_grade=3, evidence=evidence)
        instance = decide(world, decide(world, instance))
    assert student.status == "enrolled"


def test_rule_suspended_status(world):
    student = world.student("P1", grade=3)
    instance = start(world, student, "resumption", resume_date="2027-09-07", to_grade=3)
    assert instance.reason == "suspended_status"


def test_rule_no_early_return(world):
    student = world.student("P1", grade=3)
    suspend(world, student)
    instance = start(world, student, "resumption", resume_date="2027-09-06", to_grade=3)
    assert instance.reason == "no_early_return"
    assert "2027-09-07" in instance.reason_message


def test_rule_resumption_grade_compulsory_same_grade(world):
    student = world.student("P1", grade=3)
    suspend(world, student)
    instance = start(world, student, "resumption", resume_date="2027-09-07", to_grade=4)
    assert instance.reason == "resumption_grade"


@pytest.mark.parametrize(("to_grade", "ok"), [(10, True), (11, True), (12, False), (9, False)])
def test_rule_resumption_grade_senior_same_or_next(world, to_grade, ok):
    student = world.student("H1", grade=10)
    suspend(world, student, year_hours=600, absence_hours=300)
    instance = start(world, student, "resumption", resume_date="2027-09-07", to_grade=to_grade)
    assert (instance.status != "rejected") is ok
    if not ok:
        assert instance.reason == "resumption_grade"


@pytest.mark.parametrize(
    ("to_grade", "equal_progress", "ok"),
    [(11, False, True), (10, False, False), (10, True, True), (11, True, True)],
)
def test_rule_resumption_grade_vocational_next_unless_equal_progress(
    world, to_grade, equal_progress, ok
):
    """002 第十四条: 原则上随下一年级; with 成绩证明 of equal progress 可随原年级 (issue 14.6:
    the old default let every vocational student choose)."""
    student = world.student("V1", grade=10)
    suspend(world, student, term_hours=300, absence_hours=150)
    instance = start(
        world,
        student,
        "resumption",
        resume_date="2027-09-07",
        to_grade=to_grade,
        equal_progress=equal_progress,
    )
    assert (instance.status != "rejected") is ok
    if not ok:
        assert instance.reason == "resumption_grade"
        assert "随下一年级" in instance.reason_message


def test_rule_class_size_cap(world):
    student = world.student("P1", grade=3, class_name="1")
    suspend(world, student)
    for _ in range(45):
        world.student("P1", grade=3, class_name="9")
    full = start(
        world, student, "resumption", resume_date="2027-09-07", to_grade=3, to_class_name="9"
    )
    assert full.reason == "class_size_cap"


def test_own_seat_does_not_count_against_the_cap(world):
    student = world.student("P1", grade=3, class_name="9")
    suspend(world, student)
    for _ in range(44):
        world.student("P1", grade=3, class_name="9")
    instance = start(world, student, "resumption", resume_date="2027-09-07", to_grade=3)
    assert instance.status == "running"


def test_timer_scan_is_idempotent(world):
    student = world.student("P1", grade=3)
    instance = suspend(world, student)
    with at(date(2027, 9, 7)):
        engine.fire_due_timers()
        assert engine.fire_due_timers() == []
    assert len(engine.open_tasks(instance)) == 1
    assert instance.wake_at is None


def test_wake_time_is_the_end_date_in_utc(world):
    instance = suspend(world, world.student("P1", grade=3))
    end = datetime(2027, 9, 7, tzinfo=CHINA) - timedelta(hours=8)
    assert instance.wake_at == end.replace(tzinfo=None)


def test_a_failing_step_after_a_timer_becomes_an_incident_and_the_scan_goes_on(world, monkeypatch):
    import handlers
    from webapp.models import Incident

    broken = suspend(world, world.student("P1", grade=3))
    fine = suspend(world, world.student("P1", grade=4))

    def fails(ctx):
        if ctx.instance.id == broken.id:
            raise RuntimeError("学籍库连接超时")
        return original(ctx)

    original = handlers.HANDLERS["suspension.ended"]
    monkeypatch.setitem(handlers.HANDLERS, "suspension.ended", fails)
    with at(date(2027, 9, 7)):
        assert engine.fire_due_timers() == [fine.id]
        assert engine.fire_due_timers() == []  # the broken one waits for an admin now
    (incident,) = Incident.query.all()
    assert (incident.instance_id, incident.step) == (broken.id, "suspension.ended")
    assert db.session.get(Instance, broken.id).status == "error"
    assert open_steps(fine) == [("resumption_reminder", "P1")]
