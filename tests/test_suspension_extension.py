"""续办休学 (extension) at the end date (000 第二十条 说明4, ⑦ 第十九条, 003 篇10): the school's
answer to the reminder, the county's decision, the loop to the new end date, the cap, and
the senior withdrawal a month after the end date, with time moved forward (never slept)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from webapp.extensions import db
from webapp.models import AuditLog, Instance, Notification, StatusHistory
from workflows import deploy, engine, variants
from workflows.errors import Conflict, Invalid

from .flows import open_steps
from .test_status_change import upload
from .test_suspension import acknowledge, answer, at, decide, start, suspend

END = date(2027, 9, 7)  # START + one year


def ask_extension(world, instance, comment="仍需住院治疗，监护人书面申请续办") -> Instance:
    (task,) = engine.open_tasks(instance)
    evidence = [upload(world.users[task.org.code])]
    return answer(world, instance, {"decision": "extend", "comment": comment, "evidence": evidence})


def reminded(world, student, day=END, **extra) -> Instance:
    """A suspension whose end date has come: the reminder waits at the student's school."""
    instance = suspend(world, student, **extra)
    with at(day):
        engine.fire_due_timers()
    assert open_steps(instance) == [("resumption_reminder", student.school.code)]
    return instance


def withdrawals() -> int:
    return Instance.query.filter_by(procedure="withdrawal").count()


# -- the school's answer -------------------------------------------------------------------


def test_approved_extension_moves_the_end_date_and_waits_for_it_again(world):
    student = world.student("P1", grade=3)
    instance = reminded(world, student)
    with at(date(2027, 9, 10)):
        instance = ask_extension(world, instance)
        assert open_steps(instance) == [("county_extension_review", "321202")]
        assert instance.open_student_id == student.id  # held while the county decides
        instance = decide(world, instance)
    assert (student.status, student.suspended_until) == ("suspended", date(2028, 9, 7))
    assert instance.status == "running" and instance.open_student_id is None
    assert instance.wake_at == datetime(2028, 9, 6, 16, 0)  # 2028-09-07 00:00 Beijing
    assert instance.data["suspension"]["extensions"] == 1
    # The history gains a row for the extension, attributed to the county that approved it.
    first, extended = StatusHistory.query.filter_by(student_id=student.id).order_by("seq").all()
    assert first.after == {"status": "suspended", "suspended_until": "2027-09-07"}
    assert (extended.procedure, extended.instance_id, extended.seq) == (
        "suspension",
        instance.id,
        1,
    )
    assert extended.before == {"suspended_until": "2027-09-07"}
    assert extended.after == {"suspended_until": "2028-09-07", "extension": 1}
    assert extended.user_id == world.users["321202"].id
    log = AuditLog.query.filter_by(action="student.suspension").order_by(AuditLog.id).all()[-1]
    assert log.after == extended.after
    assert log.user_id == world.users["321202"].id
    assert Notification.query.filter(Notification.message.contains("顺延至 2028-09-07")).count()
    steps = [e.step for e in instance.events]
    assert steps[-4:] == [
        "resumption_reminder",
        "check_extension",
        "county_extension_review",
        "extend",
    ]
    # The loop: the new end date brings the reminder back.
    with at(date(2028, 9, 6)):
        assert engine.fire_due_timers() == []
    with at(date(2028, 9, 7)):
        assert engine.fire_due_timers() == [instance.id]
    assert open_steps(instance) == [("resumption_reminder", "P1")]
    instance = acknowledge(world, instance, "已通知监护人办理复学")
    assert instance.status == "completed"


def test_an_extension_needs_a_reason_and_evidence(world):
    instance = reminded(world, world.student("P1", grade=3))
    with pytest.raises(Invalid) as err:
        answer(world, instance, {"decision": "extend"})
    assert err.value.fields == {
        "comment": ["申请续办休学时必须说明理由。"],
        "evidence": ["申请续办休学时必须上传证明材料（如县级以上医院证明）。"],
    }
    with pytest.raises(Invalid) as err:
        answer(world, instance, {})
    assert err.value.fields == {"decision": ["请选择处理方式。"]}


def test_county_refusal_needs_a_reason_and_is_told_to_the_school(world):
    student = world.student("P1", grade=3)
    instance = ask_extension(world, reminded(world, student))
    with pytest.raises(Invalid) as err:
        decide(world, instance, "reject")
    assert "comment" in err.value.fields
    with pytest.raises(Invalid):
        decide(world, instance, "return", "改一下")  # approve or refuse, nothing else
    instance = decide(world, instance, "reject", "医院证明已可复学")
    assert open_steps(instance) == [("resumption_reminder", "P1")]
    assert student.suspended_until == END and instance.open_student_id is None
    assert instance.data["extension_refusal"] == {
        "rule": "reviewer_rejected",
        "message": "县级教育行政部门不同意，理由：医院证明已可复学",
    }
    notice = Notification.query.filter_by(kind="rejected", instance_id=instance.id).one()
    assert notice.org.code == "P1" and "医院证明已可复学" in notice.message


def test_no_resumption_starts_while_the_county_decides(world):
    student = world.student("P1", grade=3)
    instance = ask_extension(world, reminded(world, student))
    with at(date(2027, 9, 10)), pytest.raises(Conflict):
        start(world, student, "resumption", resume_date="2027-09-10", to_grade=3)
    decide(world, instance, "reject", "应按期复学")
    with at(date(2027, 9, 10)):
        resumption = start(world, student, "resumption", resume_date="2027-09-10", to_grade=3)
    assert resumption.status == "running"


def test_no_extension_while_another_procedure_holds_the_student(world):
    student = world.student("P1", grade=3)
    instance = reminded(world, student)
    with at(date(2027, 9, 8)):
        start(world, student, "resumption", resume_date="2027-09-08", to_grade=3)
        instance = ask_extension(world, instance)
    assert instance.data["extension"]["rule"] == "no_open_procedure"
    assert open_steps(instance) == [("resumption_reminder", "P1")]
    assert student.suspended_until == END


# -- the stage's cap (suspension_total) ------------------------------------------------------


def test_senior_extension_beyond_two_years_is_refused_by_the_rule(world):
    student = world.student("H1", grade=10)
    instance = reminded(world, student, year_hours=600, absence_hours=300)
    instance = decide(world, ask_extension(world, instance))  # two years in all: allowed
    assert student.suspended_until == date(2028, 9, 7)
    with at(date(2028, 9, 7)):
        engine.fire_due_timers()
        instance = ask_extension(world, instance)
    assert open_steps(instance) == [("resumption_reminder", "H1")]  # the county is not asked
    check = instance.data["extension"]
    assert (check["ok"], check["rule"]) == (False, "suspension_total")
    assert check["message"] == (
        "该学生本学段已累计休学 2 年，再休学 1 年 将超过累计上限 2 年，不能续办休学。"
    )
    notice = Notification.query.filter_by(kind="rejected", instance_id=instance.id).one()
    assert "规则：suspension_total" in notice.message
    assert student.suspended_until == date(2028, 9, 7)


def test_the_cap_counts_earlier_suspensions_of_the_stage(world):
    student = world.student("H1", grade=10)
    with at(date(2025, 9, 1)):
        earlier = suspend(
            world, student, year_hours=600, absence_hours=300, start_date="2025-09-01"
        )
    student.status, student.suspended_until = "enrolled", None  # as if resumed
    db.session.commit()
    assert earlier.data["suspension"]["end"] == "2026-09-01"
    instance = reminded(world, student, year_hours=600, absence_hours=300)
    instance = ask_extension(world, instance)
    assert instance.data["extension"]["rule"] == "suspension_total"


def test_zhushan_extends_by_three_months(world):
    variants.assign("321202", "zhushan")
    db.session.commit()
    student = world.student("P1", grade=3)
    instance = reminded(world, student, day=date(2026, 12, 7), absence_hours=0)
    assert instance.variant == "zhushan" and student.suspended_until == date(2026, 12, 7)
    instance = decide(world, ask_extension(world, instance))
    assert student.suspended_until == date(2027, 3, 7)
    with at(date(2027, 3, 7)):
        engine.fire_due_timers()
    assert open_steps(instance) == [("resumption_reminder", "P1")]


# -- senior high: the automatic withdrawal a month after the end date ------------------------


def senior(world) -> tuple:
    student = world.student("H1", grade=11)
    return student, reminded(world, student, year_hours=600, absence_hours=300)


def test_senior_acknowledged_but_not_resumed_is_still_withdrawn(world):
    student, instance = senior(world)
    with at(date(2027, 9, 10)):
        instance = acknowledge(world, instance, "已通知监护人")
    assert instance.status == "running"  # the month still runs
    with at(date(2027, 10, 7)):
        assert engine.fire_due_timers() == [instance.id]
    assert withdrawals() == 1 and instance.status == "completed"


def test_senior_asking_for_an_extension_is_not_withdrawn_while_the_county_decides(world):
    student, instance = senior(world)
    with at(date(2027, 9, 20)):
        instance = ask_extension(world, instance)
    with at(date(2027, 10, 7)):
        assert engine.fire_due_timers() == [instance.id]
    assert withdrawals() == 0
    assert open_steps(instance) == [("county_extension_review", "321202")]
    with at(date(2027, 10, 9)):
        instance = decide(world, instance)
    assert (student.status, student.suspended_until) == ("suspended", date(2028, 9, 7))
    assert withdrawals() == 0


def test_senior_with_an_approved_extension_is_not_withdrawn(world):
    student, instance = senior(world)
    with at(date(2027, 9, 20)):
        instance = decide(world, ask_extension(world, instance))
    with at(date(2027, 10, 7)):
        engine.fire_due_timers()
    assert withdrawals() == 0 and student.status == "suspended"
    assert instance.wake_at == datetime(2028, 9, 6, 16, 0)


def test_senior_refused_before_the_month_ends_is_withdrawn(world):
    student, instance = senior(world)
    with at(date(2027, 9, 20)):
        instance = decide(world, ask_extension(world, instance), "reject", "可以复学")
    with at(date(2027, 10, 7)):
        engine.fire_due_timers()
    assert withdrawals() == 1
    assert open_steps(instance) == [("resumption_reminder", "H1")]


def test_an_instance_of_a_version_before_extensions_keeps_its_reminder_form(world):
    """Forms are shared by key; the reminder of earlier versions still only acknowledges."""
    bpmn, dmn = deploy.read_files("suspension")
    earlier = bpmn.replace('value="suspension_reminder"', 'value="resumption_reminder"')
    deploy.deploy("suspension", earlier, dmn)
    db.session.commit()
    instance = reminded(world, world.student("P1", grade=3))
    (task,) = engine.open_tasks(instance)
    assert task.form_key == "resumption_reminder"
    instance = answer(world, instance, {"note": "已通知监护人办理复学"})
    assert instance.status == "completed"
