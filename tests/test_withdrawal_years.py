"""Withdrawal in the compulsory stage: "累计已经学满九年义务教育年限" (000 第二十六条.5) is years
studied, counted from the record's entry year and its history on the China date (issue 14.5)."""

from datetime import UTC, date, datetime

import time_machine

from webapp.extensions import db
from webapp.models import StatusHistory

from .flows import at
from .test_status_change import DAY, start
from .test_suspension import suspend


def _nine_years(world, day: date = DAY, **kw):
    student = world.student("J1", birth_date=date(2009, 1, 1), **kw)
    with at(day):
        return student, start(world, "withdrawal", student, "J1", "nine_years_completed")


def test_rule_compulsory_withdrawal_counts_years_studied_not_the_grade(world):
    """000 第二十六条.5 "累计已经学满九年义务教育年限": a grade-9 pupil who entered in 2018 has
    studied eight years and a term; one who repeated a grade (grade 8, entered 2017) nine."""
    _, refused = _nine_years(world, grade=9, entry_year=2018)
    assert (refused.status, refused.reason) == ("rejected", "compulsory_withdrawal")
    assert "累计已经学满九年义务教育年限" in refused.reason_message
    assert "累计在校学习8 年 3 个月" in refused.reason_message
    _, accepted = _nine_years(world, grade=8, entry_year=2017)
    assert accepted.status == "running"


def test_rule_compulsory_withdrawal_a_registered_junior_has_its_primary_years(world):
    """A record registered in junior year 1 (its registration row says grade 7) counts the
    six primary years before it: entered junior in 2024, two years and a term by now."""
    student = world.student("J1", grade=9, entry_year=2024, birth_date=date(2009, 1, 1))
    db.session.add(
        StatusHistory(
            student_id=student.id, procedure="registration", before={}, after={"grade": 7}
        )
    )
    db.session.commit()
    with at(DAY):
        instance = start(world, "withdrawal", student, "J1", "nine_years_completed")
    assert (instance.status, instance.reason) == ("rejected", "compulsory_withdrawal")
    assert "8 年 3 个月" in instance.reason_message
    with at(date(2027, 9, 1)):
        again = start(world, "withdrawal", student, "J1", "nine_years_completed")
    assert again.status == "running"


def test_rule_compulsory_withdrawal_suspended_time_is_not_studied(world):
    """休学者不得…到其他学校上学 (000 第十八条): a year suspended is no year studied."""
    student = world.student("J1", grade=8, entry_year=2017, birth_date=date(2009, 1, 1))
    with at(date(2025, 9, 10)):
        suspend(world, student, start_date="2025-09-01")
    assert student.status == "suspended"
    with at(DAY):
        refused = start(world, "withdrawal", student, "J1", "nine_years_completed")
    assert (refused.status, refused.reason) == ("rejected", "compulsory_withdrawal")
    assert "8 年 3 个月（休学期间不计）" in refused.reason_message
    _, accepted = _nine_years(world, grade=8, entry_year=2017)  # the same, never suspended
    assert accepted.status == "running"


def test_rule_compulsory_withdrawal_on_the_china_date(world):
    """Nine years from 1 September 2017 are done on 1 September 2026 in China, while the
    server (UTC) still says 31 August."""
    with time_machine.travel(datetime(2026, 8, 31, 20, 0, tzinfo=UTC), tick=False):
        assert date.today() == date(2026, 8, 31)  # the server's date
        instance = start(world, "withdrawal", _junior(world), "J1", "nine_years_completed")
    assert instance.status == "running"
    with time_machine.travel(datetime(2026, 8, 31, 15, 0, tzinfo=UTC), tick=False):
        refused = start(world, "withdrawal", _junior(world), "J1", "nine_years_completed")
    assert (refused.status, refused.reason) == ("rejected", "compulsory_withdrawal")


def _junior(world):
    return world.student("J1", grade=9, entry_year=2017, birth_date=date(2009, 1, 1))
