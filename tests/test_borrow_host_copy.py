"""000 说明5: a borrowing host keeps what the student did there — its results as result rows
in its name, which graduation reads, and a read-only copy of the record it hosted."""

import pytest

from handlers import HANDLERS
from webapp.extensions import db
from webapp.models import HostedCopy, Result, Student
from workflows import engine, jurisdiction
from workflows.errors import Invalid, NotFound
from workflows.services import EngineContext as Context

from .flows import act, approve_all, borrow_data, enrol, evidence
from .test_graduation import COMPULSORY_PASS, entry, record, submit

HOST_RESULTS = [
    {"term": "2026-2027-1", "subject": "体育", "kind": "pe", "result": "pass"},
    {"term": "2026-2027-1", "subject": "美术", "kind": "other", "result": "fail"},
]


def borrowed_and_returned(world, result_rows=HOST_RESULTS):
    """A grade-6 student of P1 (cohort 2024) borrows at P3, then P3 ends it with its results
    and P1 confirms: the whole path through the engine."""
    enrol(world, "P3")
    student = world.student("P1", grade=6, entry_year=2024)
    approve_all(world, engine.start("borrow", world.users["P3"], borrow_data(student, "P3")))
    assert student.borrow_host.code == "P3"
    data = {"end_date": "2027-01-20", "results": "体育合格，美术不合格。"}
    instance = engine.start(
        "borrow_return",
        world.users["P3"],
        {**data, "result_rows": result_rows},
        student_id=student.id,
    )
    instance = act(world, instance)
    assert instance.status == "completed" and student.borrow_host_id is None
    return student, instance


def test_host_results_are_kept_as_result_rows_in_the_hosts_name(world):
    student, instance = borrowed_and_returned(world)
    rows = Result.query.filter_by(student_id=student.id).order_by(Result.id).all()
    assert [(r.subject, r.kind, r.result, r.current) for r in rows] == [
        ("体育", "pe", "pass", True),
        ("美术", "other", "fail", True),
    ]
    assert {r.school_id for r in rows} == {world.orgs["P3"].id}
    assert all("高港实验小学" in r.source and str(instance.id) in r.source for r in rows)
    assert instance.data["result"]["results_kept"] == 2


def test_host_results_replace_an_earlier_row_and_keep_it_as_history(world):
    enrol(world, "P3")
    student = world.student("P1", grade=6, entry_year=2024)
    record(student, "体育", "pe", "fail", term="2026-2027-1")
    approve_all(world, engine.start("borrow", world.users["P3"], borrow_data(student, "P3")))
    data = {"end_date": "2027-01-20", "results": "体育合格。", "result_rows": HOST_RESULTS[:1]}
    act(world, engine.start("borrow_return", world.users["P3"], data, student_id=student.id))
    rows = Result.query.filter_by(student_id=student.id, subject="体育").order_by(Result.id).all()
    assert [(r.result, r.current, r.school_id) for r in rows] == [
        ("fail", False, None),
        ("pass", True, world.orgs["P3"].id),
    ]


def test_the_host_results_reach_graduation(world):
    """The home school recorded everything but PE; the host's PE pass makes the student graduate
    (control: a classmate without it is '缺少体育成绩记录')."""
    student, _ = borrowed_and_returned(world)
    classmate = world.student("P1", grade=6, entry_year=2024)
    for s in (student, classmate):
        for subject, kind in COMPULSORY_PASS[:4]:
            record(s, subject, kind)
    instance = submit(world, "P1")
    assert entry(instance, student).classification == "graduated"
    assert entry(instance, classmate).reasons == ["缺少体育成绩记录"]


def test_result_rows_are_checked(world):
    enrol(world, "P3")
    student = world.student("P1", grade=6, entry_year=2024)
    approve_all(world, engine.start("borrow", world.users["P3"], borrow_data(student, "P3")))
    data = {
        "end_date": "2027-01-20",
        "results": "见成绩单",
        "result_rows": "2026-2027-1 体育 gym 合格",
    }
    with pytest.raises(Invalid) as exc:
        engine.start("borrow_return", world.users["P3"], data, student_id=student.id)
    assert "类别“gym”" in exc.value.fields["result_rows"][0]
    # the browser form's lines: term, subject, kind, result, credits
    data["result_rows"] = "2026-2027-1 体育 pe 合格\n2026-2027-1，美术，other，不合格"
    instance = engine.start("borrow_return", world.users["P3"], data, student_id=student.id)
    assert [r["result"] for r in instance.data["result_rows"]] == ["pass", "fail"]


def test_the_host_keeps_a_read_only_copy(world, login):
    student, instance = borrowed_and_returned(world)
    (copy,) = HostedCopy.query.filter_by(student_id=student.id).all()
    assert copy.host_id == world.orgs["P3"].id and copy.instance_id == instance.id
    assert copy.record["home_school"] == "海陵实验小学"
    assert copy.record["borrow_start"] == "2026-09-01"
    # the record is otherwise out of the host's reach: no list, no record, no API
    assert jurisdiction.student_or_none(world.users["P3"], student.id) is None
    assert jurisdiction.students(world.users["P3"]).filter(Student.id == student.id).count() == 0
    page = login("uP3").get(f"/students/{student.id}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "借读期间学籍档案（留存）" in html and student.id_number in html
    assert "体育" in html and "高港实验小学" in html
    assert "/start/" not in html and "可发起的业务" not in html
    assert login("uP3").get("/students").data.decode().count(student.id_number) == 0
    # control: another school, not the host, gets 404
    assert login("uP4").get(f"/students/{student.id}").status_code == 404
    assert jurisdiction.hosted_copy_or_none(world.users["P4"], student.id) is None


def test_the_host_may_start_nothing_on_the_copy_while_the_home_school_may(world, login):
    student, _ = borrowed_and_returned(world)
    cancel = {"reason": "death", "evidence": evidence(world.users["P3"])}
    with pytest.raises(NotFound):
        engine.start("cancellation", world.users["P3"], cancel, student_id=student.id)
    data = {"end_date": "2027-02-01", "results": "无"}
    with pytest.raises(NotFound):
        engine.start("borrow_return", world.users["P3"], data, student_id=student.id)
    web = login("uP3")
    assert web.get(f"/students/{student.id}/start/withdrawal").status_code == 404
    assert web.post(f"/students/{student.id}/start/cancellation", data={}).status_code == 404
    # control: the home school starts one on the same record
    home = {"reason": "death", "evidence": evidence(world.users["P1"])}
    instance = engine.start("cancellation", world.users["P1"], home, student_id=student.id)
    assert instance.status == "running"
    assert login("uP1").get(f"/students/{student.id}").status_code == 200


def test_the_copy_and_the_results_are_kept_once(world):
    student, instance = borrowed_and_returned(world)
    again = HANDLERS["borrow_return.finalize"](Context(instance, None, instance.data))
    assert again == {"borrowing": False, "history_id": None}
    assert HostedCopy.query.filter_by(student_id=student.id).count() == 1
    assert Result.query.filter_by(student_id=student.id).count() == 2
    db.session.rollback()
