"""A drop-out (流失: a withdrawn record) who comes back resumes on the record already kept
(003 篇2 第十四条, 篇7 第十二条 "无需再为其建立新的电子档案"); registration never makes a second
record for an ID whose record is withdrawn or cancelled unless the county has seen the old
one. Each rule with a refusal and an accepted control."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import StatusHistory, Student
from workflows import engine

from .flows import evidence, open_steps, review, second_user
from .test_registration import admitted, city_review, same_person, submit
from .test_registration import review as county_review


def withdraw(world, student) -> None:
    """The school's withdrawal on the student's own request, approved through its chain."""
    school = student.school.code
    data = {"reason": "personal", "evidence": evidence(world.users[school])}
    instance = engine.start("withdrawal", world.users[school], data, student_id=student.id)
    instance = review(world, instance, second_user(world, school))
    review(world, instance, student.school.parent.code)
    assert student.status == "withdrawn"


def resume(world, student, **over):
    school = student.school.code
    data = {
        "resume_date": "2026-09-01",
        "to_grade": student.grade,
        "evidence": evidence(world.users[school]),
        **over,
    }
    return engine.start("resumption", world.users[school], data, student_id=student.id)


def test_rule_returning_dropout_resumes_on_the_existing_record(world):
    student = world.student("H1", grade=11, class_name="3")
    number, record = student.status_number, student.id
    withdraw(world, student)

    # The school lists the returning student as new: refused, naming the rule.
    listed = submit(world, [same_person(student, school_code="H1", grade=10)], school="H1")
    assert open_steps(listed) == [("fix_rows", "H1")]
    (problem,) = listed.data["check"]["problems"]
    assert (problem["field"], problem["rule"]) == ("id_number", "returning_dropout_resumes")
    assert "按复学办理" in problem["message"] and "003 篇2 第十四条" in problem["message"]

    # It resumes on the record it kept instead: the whole chain, the same record.
    instance = resume(world, student)
    assert open_steps(instance) == [("school_review", "H1")]
    instance = review(world, instance, second_user(world, "H1"))
    instance = review(world, instance, "321202")
    assert (instance.status, student.status, student.grade) == ("completed", "enrolled", 11)
    assert (student.id, student.status_number) == (record, number)
    assert Student.query.filter_by(id_number=student.id_number).count() == 1
    assert [h.procedure for h in student.history] == ["withdrawal", "resumption"]


def test_rule_vocational_withdrawn_no_return(world):
    vocational = world.student("V1", grade=11)
    withdraw(world, vocational)
    refused = resume(world, vocational)
    assert (refused.status, refused.reason) == ("rejected", "vocational_withdrawn_no_return")
    assert "002 第十六条" in refused.reason_message
    senior = world.student("H1", grade=11)  # the control: a general senior-high student
    withdraw(world, senior)
    assert resume(world, senior).status == "running"


def test_rule_suspended_status_a_record_in_school_needs_no_resumption(world):
    enrolled = world.student("H1", grade=11)
    refused = resume(world, enrolled)
    assert (refused.status, refused.reason) == ("rejected", "suspended_status")
    graduated = world.student("H1", grade=12, status="graduated")
    assert resume(world, graduated).reason == "suspended_status"


def test_rule_returning_one_status(world):
    student = world.student("H1", grade=11)
    withdraw(world, student)
    elsewhere = world.student("H2", grade=11)
    elsewhere.id_number = student.id_number  # meanwhile, a record at another school
    db.session.commit()
    refused = resume(world, student)
    assert (refused.status, refused.reason) == ("rejected", "returning_one_status")
    elsewhere.status = "withdrawn"  # the control: that record no longer holds a status
    db.session.commit()
    assert resume(world, student).status == "running"


def test_rule_earlier_record_seen_by_county(world, login):
    """A vocational drop-out (who may not resume) or a cancelled record: a second record is
    made only after the county's review listed the old one."""
    vocational = world.student("V1", grade=11)
    withdraw(world, vocational)
    cancelled = world.student("V1", grade=10, status="cancelled")
    rows = [same_person(vocational, school_code="V1", grade=10), same_person(cancelled, grade=10)]
    rows[1].update(school_code="V1", id_number=cancelled.id_number)
    instance = submit(world, rows, school="V1")
    assert open_steps(instance) == [("county_review", "321203")]
    seen = instance.data["check"]["earlier_records"]
    assert [(r["row"], r["record_id"]) for r in seen] == [(1, vocational.id), (2, cancelled.id)]
    page = login("u321203").get(f"/instances/{instance.id}").get_data(as_text=True)
    assert 'id="earlier-records"' in page and vocational.status_number in page

    done = city_review(world, county_review(world, instance, county="321203"))
    assert done.status == "completed"
    new = Student.query.filter_by(id_number=vocational.id_number, status="enrolled").one()
    (row,) = StatusHistory.query.filter_by(student_id=new.id).all()
    assert row.after["earlier_record_id"] == vocational.id


def test_an_earlier_record_the_county_did_not_see_sends_the_list_back(world):
    rows = [admitted(1), admitted(2)]
    instance = submit(world, rows)
    assert open_steps(instance) == [("county_review", "321202")]
    assert "earlier_records" not in instance.data["check"]
    # While the list waits, a record for row 2's ID turns up cancelled (entered by mistake).
    mistaken = world.student("P2", grade=1, status="cancelled")
    mistaken.id_number = rows[1]["id_number"]
    db.session.commit()
    instance = county_review(world, instance)
    assert open_steps(instance) == [("fix_rows", "P1")]
    (problem,) = instance.data["check"]["problems"]
    assert (problem["row"], problem["rule"]) == (2, "earlier_record_seen_by_county")
    assert Student.query.filter_by(id_number=rows[0]["id_number"]).count() == 0
