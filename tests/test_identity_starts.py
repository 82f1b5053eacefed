"""Starts that name another school's pupil by ID number and name are no lookup: a wrong pair
and a pair the caller may not start get the same answer, the answer names no school until
the pupil's school approves, they are counted per school and hour, and the pupil's school
can refuse one at once, which frees the pupil for its own procedures."""

from __future__ import annotations

import json

import pytest

from webapp.extensions import db
from webapp.models import Instance, Notification
from workflows import engine
from workflows.errors import Conflict

from .flows import borrow_data, enrol, evidence, transfer_data


def start(as_user, procedure: str, data: dict):
    return as_user.post("/api/v1/instances", json={"procedure": procedure, "data": data})


def cancellation(world, student):
    user = world.users["P1"]
    return engine.start(
        "cancellation",
        user,
        {"reason": "death", "evidence": evidence(user)},
        student_id=student.id,
    )


def test_a_wrong_pair_and_a_pair_that_may_not_start_answer_alike(api, world):
    student = world.student("P1", grade=4)
    assert start(api("uP3"), "transfer", transfer_data(student, "P3")).status_code == 201
    as_p4 = api("uP4")
    answers = [
        start(as_p4, "transfer", transfer_data(student, "P4", name="别人")),  # wrong name
        start(as_p4, "transfer", transfer_data(student, "P4")),  # right, but held by P3's
    ]
    enrol(world, "P4")
    answers += [
        start(as_p4, "borrow", borrow_data(student, "P4", name="别人")),
        start(as_p4, "borrow", borrow_data(student, "P4")),
    ]
    bodies = {json.dumps(a.get_json(), sort_keys=True, ensure_ascii=False) for a in answers}
    assert {a.status_code for a in answers} == {422} and len(bodies) == 1
    text = bodies.pop()
    assert "无法按此身份证号和姓名发起" in text
    assert "海陵实验小学" not in text and "P3" not in text and "高港" not in text
    assert Instance.query.count() == 1


def test_the_start_answer_names_no_school_until_the_pupils_school_approves(api, world, login):
    student = world.student("P1", grade=4)
    as_p3 = api("uP3")
    resp = start(as_p3, "transfer", transfer_data(student, "P3"))
    assert resp.status_code == 201
    body = resp.get_json()
    told = json.dumps(body, ensure_ascii=False)
    assert "海陵" not in told and "P1" not in told and "from_school_id" not in body["data"]
    assert [t["org_code"] for t in body["current_tasks"]] == ["321203"]  # its own county
    instance_id = body["id"]

    engine.complete(body["current_tasks"][0]["id"], world.users["321203"], {"decision": "approve"})
    later = as_p3.get(f"/api/v1/instances/{instance_id}").get_json()
    assert [t["org_code"] for t in later["current_tasks"]] == [None]  # the pupil's school
    for url in (f"/api/v1/instances/{instance_id}", f"/api/v1/instances/{instance_id}/diagram"):
        assert "海陵" not in json.dumps(as_p3.get(url).get_json(), ensure_ascii=False)
    page = login("uP3").get(f"/instances/{instance_id}").text
    assert "海陵实验小学" not in page and "学籍所在学校同意后显示" in page
    listing = login("uP3").get("/instances").text
    assert "海陵实验小学" not in listing and "学籍所在学校同意后显示" in listing

    instance = db.session.get(Instance, instance_id)
    (task,) = engine.open_tasks(instance)
    engine.complete(task.id, world.users["P1"], {"decision": "approve"})  # the control
    as_p3 = api("uP3")  # signing out of the pages above revoked the earlier token
    after = as_p3.get(f"/api/v1/instances/{instance_id}").get_json()
    assert after["data"]["from_school_id"] == world.orgs["P1"].id
    assert "P1" in [s["org_code"] for s in after["history"]]
    assert "海陵实验小学" in login("uP3").get(f"/instances/{instance_id}").text


def test_starts_by_identity_are_counted_per_school_and_hour(app, api, world):
    app.config["IDENTITY_STARTS_PER_HOUR"] = 3
    student = world.student("P1", grade=4)
    as_p3 = api("uP3")
    for n in range(3):
        wrong = start(as_p3, "transfer", transfer_data(student, "P3", name=f"猜{n}"))
        assert wrong.status_code == 422
    over = start(as_p3, "transfer", transfer_data(student, "P3"))  # even the right pair
    assert over.status_code == 429
    error = over.get_json()["error"]
    assert error["code"] == "too_many_requests" and "每小时最多 3 次" in error["message"]
    assert 0 < int(over.headers["Retry-After"]) <= 3601
    other = start(api("uP4"), "transfer", transfer_data(student, "P4"))  # another school
    assert other.status_code == 201
    assert Instance.query.count() == 1


def test_the_throttle_answers_the_web_form_in_chinese(app, world, login):
    app.config["IDENTITY_STARTS_PER_HOUR"] = 1
    student = world.student("P1", grade=4)
    client = login("uP3")
    form = {**transfer_data(student, "P3", name="别人"), "to_grade": "4"}
    assert client.post("/transfers/new", data=form).status_code == 422
    resp = client.post("/transfers/new", data=form)
    assert resp.status_code == 429 and "过于频繁" in resp.text


def test_the_pupils_school_refuses_a_start_it_did_not_ask_for(api, world, login):
    student = world.student("P1", grade=4)
    started = start(api("uP3"), "transfer", transfer_data(student, "P3")).get_json()
    (told,) = Notification.query.filter_by(org_id=world.orgs["P1"].id, kind="started").all()
    assert "高港实验小学" in told.message and "立即拒绝" in told.message
    with pytest.raises(Conflict):  # the pupil is held: the school's own procedures wait
        cancellation(world, student)

    page = login("uP1").get(f"/instances/{started['id']}").text
    assert f'action="/instances/{started["id"]}/refuse"' in page and "csrf_token" in page
    url = f"/api/v1/instances/{started['id']}/refuse"
    assert api("uP2").post(url, json={"comment": "不是本校"}).status_code == 404
    assert api("u321202").post(url, json={"comment": "县里"}).status_code == 403
    assert api("uP3").post(url, json={"comment": "发起方"}).status_code == 403
    blank = api("uP1").post(url, json={"comment": ""})
    assert blank.status_code == 422 and "comment" in blank.get_json()["error"]["fields"]

    resp = api("uP1").post(url, json={"comment": "家长未申请转学"})
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert (out["status"], out["reason"], out["current_tasks"]) == (
        "rejected",
        "sender_refused",
        [],
    )
    assert out["reason_message"] == "家长未申请转学"
    rejected = Notification.query.filter_by(org_id=world.orgs["P3"].id, kind="rejected").one()
    assert "家长未申请转学" in rejected.message
    as_starter = api("uP3").get(f"/api/v1/instances/{started['id']}").get_json()
    assert "海陵" not in json.dumps(as_starter, ensure_ascii=False)  # refusing names no one
    assert cancellation(world, student).status == "running"  # the pupil is free again
    assert api("uP1").post(url, json={"comment": "再次"}).status_code == 409


def test_a_start_the_pupils_school_approved_can_no_longer_be_refused(api, world, login):
    student = world.student("P1", grade=4)
    started = start(api("uP3"), "transfer", transfer_data(student, "P3")).get_json()
    instance = db.session.get(Instance, started["id"])
    for step, org in (("to_county_review", "321203"), ("from_school_review", "P1")):
        (task,) = engine.open_tasks(instance)
        assert (task.step, task.org.code) == (step, org)
        engine.complete(task.id, world.users[org], {"decision": "approve"})
    assert [t.step for t in engine.open_tasks(instance)] == ["from_county_review"]
    resp = api("uP1").post(f"/api/v1/instances/{instance.id}/refuse", json={"comment": "改主意"})
    assert resp.status_code == 409 and "已同意" in resp.get_json()["error"]["message"]
    page = login("uP1").get(f"/instances/{instance.id}").text
    assert f'action="/instances/{instance.id}/refuse"' not in page
    lanes = api("uP3").get(f"/api/v1/instances/{instance.id}/diagram").get_json()["lanes"]
    assert "海陵实验小学" in lanes.values()  # approved: the taking school now knows where from


def test_a_return_by_the_pupils_school_does_not_name_it_on_the_starters_task(api, world, login):
    student = world.student("P1", grade=4)
    started = start(api("uP3"), "transfer", transfer_data(student, "P3")).get_json()
    instance = db.session.get(Instance, started["id"])
    (task,) = engine.open_tasks(instance)
    engine.complete(task.id, world.users["321203"], {"decision": "approve"})
    (task,) = engine.open_tasks(instance)
    engine.complete(task.id, world.users["P1"], {"decision": "return", "comment": "请补充材料"})
    (task,) = engine.open_tasks(instance)
    assert task.org.code == "P3"  # back at the starting school
    detail = api("uP3").get(f"/api/v1/tasks/{task.id}").get_json()
    assert "请补充材料" in json.dumps(detail, ensure_ascii=False)
    assert "海陵" not in json.dumps(detail, ensure_ascii=False)
    assert "from_school_id" not in detail["data"]
    page = login("uP3").get(f"/tasks/{task.id}").text
    assert "请补充材料" in page and "海陵实验小学" not in page
    (notice,) = Notification.query.filter_by(org_id=world.orgs["P3"].id, kind="returned").all()
    assert "请补充材料" in notice.message and "海陵" not in notice.message
