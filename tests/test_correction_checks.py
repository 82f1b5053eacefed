"""No dead end after a return (issue 16 point 1): a correction is checked before it is
submitted, as a start is; a rule that fails later, at the recheck before the record
changes, offers the reviewer a return for correction when the rule judges what the school
typed; and a graduation cohort is checked on its form."""

from __future__ import annotations

import io

from handlers.school_rules import CLASS_CAPS
from webapp.models import AuditLog, Instance, InstanceEvent, db
from workflows import engine

from .flows import open_steps, review
from .test_dry_run import _beside
from .test_skip_grade import start as start_skip_grade
from .test_status_change import upload
from .test_suspension import decide
from .test_suspension import start as start_suspension


def _returned_suspension(world):
    """A suspension the county returned to the school (a school user and a second one)."""
    student = world.student("P1", grade=3)
    instance = decide(world, start_suspension(world, student), "return", "核对课时")
    (task,) = engine.open_tasks(instance)
    assert task.step == "correct_application"
    return instance, task


def _correction(user, hours) -> dict:
    return {
        "reason": "illness",
        "absence_hours": hours,
        "start_date": "2026-09-07",
        "evidence": [upload(user)],
    }


def test_a_correction_through_the_api_is_refused_naming_the_field(world, api):
    instance, task = _returned_suspension(world)
    school = world.users["P1"]
    events = InstanceEvent.query.count()
    resp = api("uP1").post(
        f"/api/v1/tasks/{task.id}/complete", json={"data": _correction(school, 100)}
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert "未提交" in error["message"]
    assert "缺课须达到休学条件" in error["fields"]["absence_hours"][0]
    db.session.expire_all()
    assert (instance.status, open_steps(instance)) == ("running", [("correct_application", "P1")])
    assert InstanceEvent.query.count() == events  # the step was not completed
    (attempt,) = AuditLog.query.filter_by(action="suspension.correction_refused").all()
    assert (attempt.user_id, attempt.object_type) == (school.id, "humantask")
    resp = api("uP1").post(  # the control: enough hours, the case goes back to review
        f"/api/v1/tasks/{task.id}/complete", json={"data": _correction(school, 220)}
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "running"
    assert open_steps(instance)[0][0] != "correct_application"


def test_the_correction_page_shows_the_refusal_beside_the_field_and_keeps_what_was_typed(
    world, login
):
    _, task = _returned_suspension(world)
    client = login("uP1")
    form = {
        "reason": "illness",
        "absence_hours": "100",
        "start_date": "2026-09-07",
        "evidence": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "诊断证明.pdf"),
    }
    resp = client.post(f"/tasks/{task.id}", data=form, content_type="multipart/form-data")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    block = _beside(page, "absence_hours")
    assert "缺课须达到休学条件：" in block and 'value="100"' in block
    assert "absence_threshold" not in page and "。。" not in page
    db.session.expire_all()
    assert db.session.get(type(task), task.id).state == "open"


def test_the_reviewer_sees_why_the_recheck_failed_and_may_return_it(world, login, monkeypatch):
    monkeypatch.setitem(CLASS_CAPS, "primary", 1)
    student = world.student("P1", grade=3)
    instance = review(world, start_skip_grade(world, student, to_class_name="2"), "uP1b")
    world.student("P1", grade=4, class_name="2")  # the class fills meanwhile
    instance = review(world, instance, "321202")
    (task,) = engine.open_tasks(instance)
    assert (task.step, task.form_key) == ("recheck_failed", "recheck_failed")
    page = login("u321202").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "班额上限" in page and "退回学校修改" in page and "不予办理" in page
    assert 'value="return"' in page and 'value="approve"' not in page  # no approving it
    assert "确认不同意？" in page  # ending it asks first
    resp = login("u321202").post(
        f"/tasks/{task.id}",
        data={"decision": "return", "comment": "2 班已满，请改编其他班级"},
    )
    assert resp.status_code in (302, 303)
    (correction,) = engine.open_tasks(instance)
    page = login("uP1").get(f"/tasks/{correction.id}").get_data(as_text=True)
    assert "班额上限" in page and "2 班已满" in page  # the school reads what to change


def test_a_graduation_dry_run_refuses_an_empty_cohort(world, api):
    caller = api("uJ1")
    data = {"school_code": "J1", "entry_year": 2024}
    body = {"procedure": "graduation", "data": data, "dry_run": True}
    resp = caller.post("/api/v1/instances", json=body)
    assert resp.status_code == 200, resp.get_json()
    (refusal,) = resp.get_json()["refusals"]
    assert (refusal["rule"], refusal["title"]) == ("empty_cohort", "须有毕业年级在籍学生")
    assert Instance.query.count() == 0
    world.student("J1", grade=9, entry_year=2024)
    db.session.commit()
    assert caller.post("/api/v1/instances", json=body).get_json() == {"ok": True, "refusals": []}
    assert Instance.query.count() == 0
