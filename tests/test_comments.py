"""Issue 16, point 5: comments from anyone involved, in the history; a reviewer returning a
case names the documents wanted, the correction step shows it and takes the uploads, and
the instance keeps every file it was sent. Through the API and the pages."""

from __future__ import annotations

import io

from webapp.extensions import db
from webapp.models import AuditLog, HumanTask, Instance
from workflows import engine

from .flows import transfer_data
from .test_status_change import upload

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def _transfer(api, world) -> dict:
    student = world.student("P1", grade=4)
    db.session.commit()
    resp = api("uP3").post(
        "/api/v1/instances", json={"procedure": "transfer", "data": transfer_data(student, "P3")}
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_anyone_involved_comments_and_an_uninvolved_county_gets_404(api, world):
    started = _transfer(api, world)
    url = f"/api/v1/instances/{started['id']}/comments"
    # The sending school (it has a step later) and the reviewing county both see it.
    for username, text in (("uP1", "家长已同意转出"), ("u321203", "请补充户籍证明")):
        resp = api(username).post(url, json={"text": text})
        assert resp.status_code == 201, resp.get_json()
        assert resp.get_json()["decision"] == "comment" and resp.get_json()["comment"] == text
    # 广陵区 is not involved: as if the instance did not exist.
    assert api("u321002").post(url, json={"text": "路过"}).status_code == 404
    # Text required and at most 2000 characters, refused naming `text`.
    for body in ({"text": ""}, {"text": "长" * 2001}, {}):
        resp = api("uP3").post(url, json=body)
        assert resp.status_code == 422 and "text" in resp.get_json()["error"]["fields"]
    history = api("u321203").get(f"/api/v1/instances/{started['id']}").get_json()["history"]
    comments = [(h["by"], h["comment"]) for h in history if h["decision"] == "comment"]
    assert comments == [("uP1", "家长已同意转出"), ("u321203", "请补充户籍证明")]
    # The taking school reads the remarks, but not yet which school the pupil's is (a start
    # by ID number hides it until that school approves).
    history = api("uP3").get(f"/api/v1/instances/{started['id']}").get_json()["history"]
    comments = [(h["by"], h["comment"]) for h in history if h["decision"] == "comment"]
    assert comments == [(None, "家长已同意转出"), ("u321203", "请补充户籍证明")]
    assert all(h["at"] for h in history)
    # A comment decides nothing: the county's step is still open and its own to do.
    instance = db.session.get(Instance, started["id"])
    assert instance.status == "running" and [t.step for t in engine.open_tasks(instance)] == [
        "to_county_review"
    ]
    assert AuditLog.query.filter_by(action="instance.comment").count() == 2


def test_a_comment_from_the_instance_page(client, login, api, world):
    started = _transfer(api, world)
    page = f"/instances/{started['id']}"
    login("u321203")
    html = client.get(page).get_data(as_text=True)
    assert 'name="text"' in html and "csrf_token" in html
    resp = client.post(
        f"{page}/comments", data={"text": "请学校核对转入年级"}, follow_redirects=True
    )
    html = resp.get_data(as_text=True)
    assert "留言已添加" in html and "请学校核对转入年级" in html and "留言" in html
    resp = client.post(f"{page}/comments", data={"text": "  "}, follow_redirects=True)
    assert "留言内容须为 1 到 2000 个字" in resp.get_data(as_text=True)
    login("u321002")
    assert client.post(f"{page}/comments", data={"text": "x"}).status_code == 404


def test_a_return_names_the_documents_and_the_correction_takes_uploads(client, login, api, world):
    started = _transfer(api, world)
    county_task = started["current_tasks"][0]["id"]
    resp = api("u321203").post(
        f"/api/v1/tasks/{county_task}/complete",
        json={
            "data": {
                "decision": "return",
                "comment": "缺少户籍迁移证明",
                "requested_documents": "户口迁移证明复印件",
            }
        },
    )
    assert resp.status_code == 200, resp.get_json()
    (correction,) = resp.get_json()["current_tasks"]
    assert correction["step"] == "correct_application"
    login("uP3")
    html = client.get(f"/tasks/{correction['id']}").get_data(as_text=True)
    assert "审核单位要求补充的材料：户口迁移证明复印件" in html
    assert 'type="file"' in html and 'name="evidence"' in html
    resp = client.post(
        f"/tasks/{correction['id']}",
        data={
            "to_grade": "4",
            "to_class_name": "1",
            "reason": "household_move",
            "evidence": (io.BytesIO(PDF), "户口迁移证明.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    instance = db.session.get(Instance, started["id"])
    db.session.refresh(instance)
    assert len(instance.data["evidence"]) == 1
    assert "户口迁移证明.pdf" in client.get(f"/instances/{instance.id}").get_data(as_text=True)
    # The county's next review no longer shows the old request.
    (again,) = engine.open_tasks(instance)
    login("u321203")
    assert "要求补充的材料：" not in client.get(f"/tasks/{again.id}").get_data(as_text=True)


def test_a_correction_keeps_the_application_files_and_adds_new_ones(world):
    """A returned 留级 re-submits its own form: sent without files it keeps the application's
    (the form's required evidence); sent with one, the instance keeps both."""
    student = world.student("P1", grade=3)
    first = upload(world.users["P1"])
    instance = engine.start(
        "repeat_grade",
        world.users["P1"],
        {"to_grade": 2, "to_class_name": "1", "evidence": [first]},
        student_id=student.id,
    )
    (task,) = engine.open_tasks(instance)
    instance = engine.complete(
        task.id,
        world.users["uP1b"],
        {"decision": "return", "comment": "缺监护人签字", "requested_documents": "监护人签字页"},
    )
    (correction,) = engine.open_tasks(instance)
    assert correction.form_key == "repeat_grade_apply"
    second = upload(world.users["P1"])
    instance = engine.complete(
        correction.id,
        world.users["P1"],
        {"to_grade": 2, "to_class_name": "1", "evidence": [second]},
    )
    assert instance.data["evidence"] == [first, second]
    (task,) = engine.open_tasks(instance)
    instance = engine.complete(
        task.id, world.users["uP1b"], {"decision": "return", "comment": "再核对班级"}
    )
    (correction,) = engine.open_tasks(instance)
    instance = engine.complete(
        correction.id, world.users["P1"], {"to_grade": 2, "to_class_name": "2"}
    )
    assert instance.data["evidence"] == [first, second]
    assert db.session.get(HumanTask, correction.id).state == "completed"
