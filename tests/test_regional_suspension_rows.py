"""The graduating year and its relatives as table rows a region overrides (issue 14.9):
Shandong refuses suspension only in senior year 3, term 2, and suspends for illness on a
county-level hospital certificate without counting hours (000 ⑦ 第十七条); Zhushan lets a
graduating-year suspension through on the principal's and head teacher's signatures with the
bureau's approval (003 篇10 五) and resumption at any time (003 篇10 二 ⒉)."""

from __future__ import annotations

from datetime import date

from webapp.extensions import db
from workflows import variants

from .flows import at, open_steps
from .test_suspension import decide, second_user, start, suspend

TERM_ONE, TERM_TWO = date(2026, 10, 12), date(2027, 3, 10)


def assign(variant: str) -> None:
    variants.assign("321202", variant)  # 海陵区: P1, J1, H1
    db.session.commit()


def test_rule_graduating_year_shandong_only_senior_year_three_term_two(world):
    assign("shandong")
    with at(TERM_TWO):
        refused = start(world, world.student("H1", grade=12))
        sixth = start(world, world.student("P1", grade=6))
    assert (refused.status, refused.reason) == ("rejected", "graduating_year")
    assert "高中学生第三学年第二学期一般不准休学（000 ⑦ 第十七条）" in refused.reason_message
    assert sixth.status == "running" and sixth.variant == "shandong"  # compulsory: allowed
    with at(TERM_ONE):
        first_term = start(world, world.student("H1", grade=12))
    assert first_term.status == "running"


def test_rule_graduating_year_the_default_refuses_the_whole_last_year(world):
    with at(TERM_ONE):
        refused = start(world, world.student("H1", grade=12), principal_signed=True)
        accepted = start(world, world.student("H1", grade=11), year_hours=600)
    assert (refused.status, refused.reason) == ("rejected", "graduating_year")
    assert "000 第十七条" in refused.reason_message
    assert accepted.status == "running"


def test_rule_graduating_year_zhushan_on_the_principals_signature(world):
    assign("zhushan")
    refused = start(world, world.student("P1", grade=6))
    assert (refused.status, refused.reason) == ("rejected", "graduating_year")
    assert "校长、班主任签字" in refused.reason_message
    assert "003 篇10 五" in refused.reason_message
    student = world.student("P1", grade=6)
    second_user(world, "P1")
    signed = start(world, student, principal_signed=True)
    assert signed.status == "running" and signed.data["check"]["graduating_year"] is True
    signed = decide(world, signed)  # school review
    assert open_steps(signed) == [("county_review", "321202")]  # the bureau approves
    decide(world, signed)
    assert student.status == "suspended"
    senior = start(world, world.student("H1", grade=12), principal_signed=True)
    assert senior.reason == "graduating_year"  # senior high: as the default


def test_rule_no_early_return_zhushan_resumes_at_any_time(world):
    assign("zhushan")
    with at(date(2026, 10, 1)):
        pupil, senior = world.student("P1", grade=3), world.student("H1", grade=10)
        suspend(world, pupil)
        suspend(world, senior, absence_hours=0)
        early = {"resume_date": "2026-10-20"}
        accepted = start(world, pupil, "resumption", to_grade=3, **early)
        refused = start(world, senior, "resumption", to_grade=10, **early)
    assert pupil.suspended_until == date(2026, 12, 7)  # three months from the illness
    assert accepted.status == "running" and accepted.variant == "zhushan"
    assert (refused.status, refused.reason) == ("rejected", "no_early_return")


def test_rule_absence_threshold_shandong_illness_on_a_county_hospital_certificate(world):
    assign("shandong")
    accepted = start(world, world.student("H1", grade=10), absence_hours=0)
    assert accepted.status == "running"
    refused = start(world, world.student("P1", grade=3), reason="force_majeure", absence_hours=0)
    assert (refused.status, refused.reason) == ("rejected", "absence_threshold")
    assert "超过 210 课时" in refused.reason_message
