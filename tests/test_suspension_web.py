"""休学 in the browser: the months a reason asks for, and 续办休学 at the end date."""

from __future__ import annotations

import io
from datetime import date

from webapp.models import Instance
from workflows import engine

from .test_suspension import at, suspend

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def test_military_without_the_service_length_is_refused_with_the_field_named(world, login):
    student = world.student("H1", grade=10)
    resp = login("uH1").post(
        f"/students/{student.id}/start/suspension",
        data={
            "reason": "military",
            "absence_hours": "0",
            "start_date": "2026-09-07",
            "evidence": (io.BytesIO(PDF), "入伍通知书.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "休学原因为“应征入伍”时必须填写服役期限（月）。" in resp.get_data(as_text=True)
    assert Instance.query.count() == 0


def test_the_school_asks_for_an_extension_and_the_county_approves(world, login):
    student = world.student("P1", grade=3)
    instance = suspend(world, student)
    with at(date(2027, 9, 7)):
        engine.fire_due_timers()
    (task,) = engine.open_tasks(instance)
    school = login("uP1")
    page = school.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "休学期满：办理复学或续办休学" in page
    assert 'value="extend"' in page and "知悉，将办理复学" in page
    refused = school.post(f"/tasks/{task.id}", data={"decision": "extend"})
    assert refused.status_code == 422
    assert "申请续办休学时必须上传证明材料" in refused.get_data(as_text=True)
    resp = school.post(
        f"/tasks/{task.id}",
        data={
            "decision": "extend",
            "comment": "仍需住院治疗",
            "evidence": (io.BytesIO(PDF), "住院证明.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    (review,) = engine.open_tasks(instance)
    county = login("u321202")
    page = county.get(f"/tasks/{review.id}").get_data(as_text=True)
    assert "续办休学审核" in page and "住院证明.pdf" in page
    assert "申请续办休学" in page and "仍需住院治疗" in page  # the school's answer, in the history
    assert county.post(f"/tasks/{review.id}", data={"decision": "reject"}).status_code == 422
    resp = county.post(f"/tasks/{review.id}", data={"decision": "approve"})
    assert resp.status_code == 302
    assert student.suspended_until == date(2028, 9, 7)
