"""Senior and vocational new students are admitted by the city (000 第二部分 第一条、第四条;
⑦ 第四条): their registration list passes the city after the county; a student who has not
reported two weeks after the notice's reporting period, without leave, is struck (⑦ 第六条).
Each rule with a refusal and an accepted control, the whole path through the engine."""

from __future__ import annotations

from datetime import date

from webapp.models import Student
from workflows import engine

from .flows import at, open_steps
from .test_registration import admitted, city_review, registered, review, submit

SENIOR_BIRTH = date(2010, 10, 1)
LAST_DAY = date(2026, 9, 15)  # report_by 2026-09-01 + two weeks


def senior(n: int, **over) -> dict:
    return admitted(n, school="H1", grade=10, birth=SENIOR_BIRTH, **over)


def test_rule_city_admits_a_senior_list_after_the_county(world):
    rows = [senior(1), senior(2)]
    instance = submit(world, rows, school="H1")
    assert open_steps(instance) == [("county_review", "321202")]
    instance = review(world, instance)
    assert open_steps(instance) == [("city_review", "3212")]  # 泰州市 admits and approves
    assert registered(rows) == []
    instance = city_review(world, instance)
    assert instance.status == "completed" and len(registered(rows)) == 2


def test_a_primary_list_needs_no_city(world):
    rows = [admitted(1), admitted(2)]
    instance = review(world, submit(world, rows))
    assert instance.status == "completed" and len(registered(rows)) == 2


def test_the_city_may_return_or_reject_the_list(world):
    rows = [senior(1)]
    returned = city_review(
        world, review(world, submit(world, rows, school="H1")), "return", "请核对录取名册"
    )
    assert open_steps(returned) == [("fix_rows", "H1")]
    (task,) = engine.open_tasks(returned)
    again = engine.complete(task.id, world.users["H1"], {"rows": rows, "note": "已核对"})
    rejected = city_review(world, review(world, again), "reject", "不在录取名册内")
    assert (rejected.status, registered(rows)) == ("rejected", [])


def test_rule_not_reported_struck(world):
    rows = [senior(1), senior(2, reported_on="")]
    with at(date(2026, 9, 16)):  # two weeks after the reporting period ended
        instance = submit(world, rows, school="H1")
        (struck,) = instance.data["check"]["struck"]
        assert (struck["row"], struck["rule"]) == (2, "not_reported_struck")
        assert "取消入学资格" in struck["message"] and "⑦ 第六条" in struck["message"]
        instance = city_review(world, review(world, instance))
    assert instance.status == "completed"
    assert [s.name for s in registered(rows)] == ["新生1"]  # the struck student has no record
    assert Student.query.filter_by(id_number=rows[1]["id_number"]).count() == 0
    assert instance.data["check"]["struck"][0]["row"] == 2


def test_rule_not_reported_within_two_weeks_waits_for_the_report(world):
    """The control: on the last day of the two weeks the student is not struck; the row is
    registered once the report is recorded."""
    rows = [senior(1, reported_on="")]
    with at(LAST_DAY):
        instance = submit(world, rows, school="H1")
        ((field, message),) = [
            (p["field"], p["message"]) for p in instance.data["check"]["problems"]
        ]
        assert field == "reported_on" and "尚未报到" in message
        assert "struck" not in instance.data["check"]
        (task,) = engine.open_tasks(instance)
        fixed = [senior(1, reported_on=LAST_DAY.isoformat())]
        instance = engine.complete(task.id, world.users["H1"], {"rows": fixed})
        assert open_steps(instance) == [("county_review", "321202")]


def test_rule_not_reported_struck_late_report_or_leave(world):
    late = senior(1, reported_on="2026-09-16")  # reported after the two weeks: too late
    excused = senior(2, reported_on="2026-09-20", leave="病假，已向学校请假")
    with at(date(2026, 9, 25)):
        instance = submit(world, [late, excused], school="H1")
    assert [s["row"] for s in instance.data["check"]["struck"]] == [1]
    assert open_steps(instance) == [("county_review", "321202")]


def test_a_senior_row_needs_the_notices_reporting_day(world):
    rows = [senior(1, report_by="")]
    instance = submit(world, rows, school="H1")
    (problem,) = instance.data["check"]["problems"]
    assert problem["field"] == "report_by" and "录取通知书" in problem["message"]
