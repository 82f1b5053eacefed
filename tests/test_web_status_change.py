"""Withdrawal and cancellation in the browser: start with evidence uploads, four-eyes message."""

import io

from webapp.models import FileUpload, Instance

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def test_school_starts_a_cancellation_with_a_scan_and_the_county_approves(world, login):
    student = world.student("P1", grade=3)
    client = login("uP1")
    page = client.get(f"/students/{student.id}").get_data(as_text=True)
    assert "注销" in page and "退学" in page
    resp = client.post(
        f"/students/{student.id}/start/cancellation",
        data={"reason": "death", "evidence": (io.BytesIO(PDF), "死亡证明.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    instance = Instance.query.one()
    assert instance.data["evidence"] == [FileUpload.query.one().id]
    county = login("u321202")
    task_id = instance.tasks[0].id
    assert "死亡证明.pdf" in county.get(f"/tasks/{task_id}").get_data(as_text=True)
    resp = county.post(f"/tasks/{task_id}", data={"decision": "approve"}, follow_redirects=True)
    assert resp.status_code == 200
    assert student.status == "cancelled"


def test_a_renamed_text_file_is_refused_and_nothing_is_kept(world, login):
    student = world.student("P1", grade=3)
    client = login("uP1")
    resp = client.post(
        f"/students/{student.id}/start/cancellation",
        data={"reason": "death", "note": "保留的说明", "evidence": (io.BytesIO(b"hello"), "a.pdf")},
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "不是 PDF、JPEG 或 PNG" in page and "保留的说明" in page
    assert FileUpload.query.count() == 0 and Instance.query.count() == 0


def test_four_eyes_is_explained_in_the_browser(world, login):
    student = world.student("P1", grade=5)
    client = login("uP1")
    client.post(
        f"/students/{student.id}/start/withdrawal",
        data={"reason": "lost_ability", "evidence": (io.BytesIO(PDF), "诊断.pdf")},
        content_type="multipart/form-data",
    )
    task_id = Instance.query.one().tasks[0].id
    resp = client.post(f"/tasks/{task_id}", data={"decision": "approve"}, follow_redirects=True)
    assert "四眼原则" in resp.get_data(as_text=True)
    assert Instance.query.one().tasks[0].state == "open"
    other = login("uP1b")
    other.post(f"/tasks/{task_id}", data={"decision": "approve"})
    assert [t.step for t in Instance.query.one().tasks if t.state == "open"] == ["county_review"]


def test_another_schools_student_cannot_be_started(world, login):
    student = world.student("P1", grade=3)
    assert login("uP3").get(f"/students/{student.id}/start/cancellation").status_code == 404


def test_the_record_page_offers_every_procedure_of_the_school(world, login):
    """Each per-student procedure a school starts is offered on the student's record page."""
    from webapp.models.vocabulary import PROCEDURES

    student = world.student("P1", grade=3)
    page = login("uP1").get(f"/students/{student.id}").get_data(as_text=True)
    offered = page.split("可发起的业务")[1]
    for proc in PROCEDURES.values():
        if proc.cohort or proc.key in ("borrow", "borrow_return", "resumption"):
            # cohorts start from the menu; borrowing starts at the host school; an enrolled
            # pupil is not offered 复学 (tests/test_plain_chinese.py)
            continue
        assert f">{proc.name}</a>" in offered, proc.key
