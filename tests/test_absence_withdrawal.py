"""Automatic withdrawal for absence without leave (擅自离校, 000 ⑦ 第二十二条): a senior
student away more than one month after the school's written reminders; the school records
the absence and the reminders, a second registrar reviews, the county files it. A reason of
the withdrawal procedure; every refusal names its rule and has an accepted control."""

from __future__ import annotations

from datetime import date

import pytest

from webapp.models import Certificate, StatusHistory
from workflows import engine
from workflows.errors import Invalid

from .flows import at, evidence, open_steps, review, second_user

TODAY = date(2027, 3, 20)


def absent(world, student, school: str, **dates):
    """The school records the absence (dates as ISO text) with the copies of its letters."""
    user = world.users[school]
    data = {"reason": "absent_without_leave", "evidence": evidence(user), **dates}
    with at(TODAY):
        return engine.start("withdrawal", user, data, student_id=student.id)


def test_rule_absence_withdrawal_whole_path_without_a_leaving_certificate(world):
    student = world.student("H1", grade=11, entry_year=2025)
    instance = absent(world, student, "H1", absent_since="2027-02-10", reminded_on="2027-02-20")
    assert open_steps(instance) == [("school_review", "H1")]
    with at(TODAY):
        instance = review(world, instance, second_user(world, "H1"))
        assert open_steps(instance) == [("county_review", "321202")]  # the county files it
        instance = review(world, instance, "321202")
    assert (instance.status, student.status) == ("completed", "withdrawn")
    (row,) = StatusHistory.query.filter_by(student_id=student.id).all()
    assert (row.procedure, row.after) == ("withdrawal", {"status": "withdrawn"})
    assert instance.data["reminded_on"] == "2027-02-20"
    # 自动退学学生，不发给肄业证书 (⑦ 第二十九条), though the student studied over a year.
    assert Certificate.query.filter_by(student_id=student.id).count() == 0


@pytest.mark.parametrize(
    ("school", "grade", "rule"),
    [
        ("V1", 11, "absence_senior_only"),  # vocational: 002 has no such withdrawal
        ("J1", 8, "compulsory_withdrawal"),  # ⑦ 第二十三条: compulsory students never withdraw
        ("H1", 11, None),  # the control: a general senior-high student
    ],
)
def test_rule_absence_senior_only(world, school, grade, rule):
    student = world.student(school, grade=grade)
    instance = absent(world, student, school, absent_since="2027-02-10", reminded_on="2027-02-20")
    if rule is None:
        assert instance.status == "running" and open_steps(instance) == [("school_review", school)]
    else:
        assert (instance.status, instance.reason, student.status) == ("rejected", rule, "enrolled")


@pytest.mark.parametrize(
    ("since", "ok"),
    [("2027-02-20", False), ("2027-02-19", True)],  # exactly one month away; one day more
)
def test_rule_absence_over_a_month(world, since, ok):
    student = world.student("H1", grade=10)
    instance = absent(world, student, "H1", absent_since=since, reminded_on="2027-03-01")
    if ok:
        assert instance.status == "running"
    else:
        assert (instance.status, instance.reason) == ("rejected", "absence_over_a_month")
        assert "2027-03-20 以后方可办理" in instance.reason_message
        assert "第二十二条" in instance.reason_message


@pytest.mark.parametrize(
    ("reminded_on", "ok"),
    [
        (None, False),  # no written reminder recorded
        ("2027-02-01", False),  # before the student left: not a reminder to come back
        ("2027-03-21", False),  # after today
        ("2027-02-10", True),  # the control: on the day the student left, or later
    ],
)
def test_rule_absence_reminded(world, reminded_on, ok):
    student = world.student("H1", grade=10)
    dates = {"absent_since": "2027-02-10"} | ({"reminded_on": reminded_on} if reminded_on else {})
    instance = absent(world, student, "H1", **dates)
    if ok:
        assert instance.status == "running"
    else:
        assert (instance.status, instance.reason) == ("rejected", "absence_reminded")
        assert "信函" in instance.reason_message and "第二十二条" in instance.reason_message


def test_rule_absence_not_suspended(world):
    suspended = world.student("H1", grade=10, status="suspended", suspended_until=date(2027, 9, 1))
    instance = absent(world, suspended, "H1", absent_since="2027-01-10", reminded_on="2027-02-01")
    assert (instance.status, instance.reason) == ("rejected", "absence_not_suspended")
    enrolled = world.student("H1", grade=10)
    control = absent(world, enrolled, "H1", absent_since="2027-01-10", reminded_on="2027-02-01")
    assert control.status == "running"


def test_the_absence_date_is_asked_for_this_reason_only(world):
    student = world.student("H1", grade=10)
    with pytest.raises(Invalid) as refused:
        absent(world, student, "H1", reminded_on="2027-02-01")
    assert "absent_since" in refused.value.fields
    user = world.users["H1"]
    data = {"reason": "personal", "evidence": evidence(user)}
    assert engine.start("withdrawal", user, data, student_id=student.id).status == "running"
