"""Issue 16, point 4: the applying school withdraws (撤销) before the last review; a lead
releases or hands over a colleague's claim; a claimed task is read-only for the others;
a four-eyes step says "需他人审核" to who entered it. Through the API and the pages."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import AuditLog, HumanTask, Instance, Notification, Student

from .flows import review, transfer_data
from .test_status_change import upload
from .test_suspension import suspend


def _transfer(api, world):
    """uP3 (高港实验小学) applies to take a pupil of uP1's 海陵实验小学; the first step is
    the county 321203's review."""
    student = world.student("P1", grade=4)
    db.session.commit()
    resp = api("uP3").post(
        "/api/v1/instances", json={"procedure": "transfer", "data": transfer_data(student, "P3")}
    )
    assert resp.status_code == 201, resp.get_json()
    return student, resp.get_json()


def _lead(world, username: str, org: str, role: str = "school"):
    known = world.users.get(org if username == f"u{org}" else username)
    user = known or world.user(username, org, role)
    user.lead = True
    db.session.commit()
    return user


# -- withdraw -------------------------------------------------------------------------------


def test_the_applying_school_withdraws_and_the_others_may_not(api, world):
    student, started = _transfer(api, world)
    url = f"/api/v1/instances/{started['id']}/withdraw"
    # The sending school and the reviewing county see it but did not apply: 409.
    for username in ("uP1", "u321203"):
        resp = api(username).post(url, json={"comment": "不同意"})
        assert resp.status_code == 409, resp.get_json()
        assert "只有发起申请的单位" in resp.get_json()["error"]["message"]
    # A school that cannot see it at all: 404.
    assert api("uP4").post(url, json={"comment": "撤销"}).status_code == 404
    # No reason given: refused naming the field, nothing changed.
    resp = api("uP3").post(url, json={"comment": ""})
    assert resp.status_code == 422 and "comment" in resp.get_json()["error"]["fields"]
    # The applying school itself: cancelled, the step gone, the pupil free again.
    resp = api("uP3").post(url, json={"comment": "家长决定不转学了"})
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert out["status"] == "cancelled" and out["reason"] == "withdrawn"
    assert out["current_tasks"] == []
    assert out["history"][-1]["decision"] == "withdraw"
    assert out["history"][-1]["comment"] == "家长决定不转学了"
    assert out["history"][-1]["by"] == "uP3"
    assert db.session.get(Instance, started["id"]).open_student_id is None
    assert api("u321203").get("/api/v1/tasks").get_json()["total"] == 0
    told = {n.org.code for n in Notification.query.filter_by(kind="withdrawn")}
    assert told == {"321203", "P1"}
    assert AuditLog.query.filter_by(action="transfer.withdraw").count() == 1
    # Withdrawn once is final.
    assert api("uP3").post(url, json={"comment": "再撤"}).status_code == 409
    # The pupil may be applied for again.
    again = api("uP3").post(
        "/api/v1/instances", json={"procedure": "transfer", "data": transfer_data(student, "P3")}
    )
    assert again.status_code == 201, again.get_json()


def test_no_withdrawal_after_the_last_review(api, world):
    """A transfer approved at every step is done; a suspension approved is waiting for its
    expiry (its timer), the record changed: both 409."""
    _, started = _transfer(api, world)
    instance = db.session.get(Instance, started["id"])
    for code in ("321203", "P1", "321202"):
        instance = review(world, instance, code)
    assert instance.status == "completed"
    resp = api("uP3").post(f"/api/v1/instances/{instance.id}/withdraw", json={"comment": "晚了"})
    assert resp.status_code == 409

    pupil = world.student("J1", grade=7)
    suspended = suspend(world, pupil)
    assert suspended.status == "running" and db.session.get(Student, pupil.id).status == "suspended"
    resp = api("uJ1").post(f"/api/v1/instances/{suspended.id}/withdraw", json={"comment": "晚了"})
    assert resp.status_code == 409
    assert "不能撤销" in resp.get_json()["error"]["message"]


def test_withdraw_from_the_instance_page_needs_the_confirmation(client, login, api, world):
    _, started = _transfer(api, world)
    page = f"/instances/{started['id']}"
    login("uP3")
    shown = client.get(page).get_data(as_text=True)
    assert shown.count('id="withdraw"') == 1
    assert f"<title>业务 {started['id']} · 学籍通</title>" in shown  # the card is in the page only
    url = f"{page}/withdraw"
    resp = client.post(url, data={"comment": "家长改变主意"}, follow_redirects=True)
    assert "请勾选确认" in resp.get_data(as_text=True)
    assert db.session.get(Instance, started["id"]).status == "running"
    resp = client.post(
        url, data={"comment": "家长改变主意", "confirm": "yes"}, follow_redirects=True
    )
    assert "已撤销该申请" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Instance, started["id"]).status == "cancelled"
    # The receiving county's page offers no withdrawal; its POST says why in Chinese.
    login("u321203")
    assert 'id="withdraw"' not in client.get(page).get_data(as_text=True)
    resp = client.post(url, data={"comment": "x", "confirm": "yes"}, follow_redirects=True)
    assert "只有发起申请的单位" in resp.get_data(as_text=True)


# -- leads: release and hand over -----------------------------------------------------------


def test_a_lead_hands_a_claimed_task_over_and_others_may_not(api, world):
    _, started = _transfer(api, world)
    task_id = started["current_tasks"][0]["id"]
    world.user("u321203b", "321203", "county")
    world.user("u321203c", "321203", "county")
    db.session.commit()
    claimed = api("u321203").post(f"/api/v1/tasks/{task_id}/claim").get_json()
    assert claimed["claimed_by"] == "u321203" and claimed["claimed_at"]
    url = f"/api/v1/tasks/{task_id}/assign"
    # A colleague who is no lead: 403 in Chinese.
    resp = api("u321203b").post(url, json={"username": "u321203b"})
    assert resp.status_code == 403 and "负责人" in resp.get_json()["error"]["message"]
    # Nor may a non-lead release the colleague's claim.
    assert api("u321203b").post(f"/api/v1/tasks/{task_id}/release").status_code == 403
    # A lead of another county: 404.
    _lead(world, "u321202", "321202", "county")
    assert api("u321202").post(url, json={"username": "u321203b"}).status_code == 404
    # The county's own lead: to someone of another organisation, refused naming the field.
    _lead(world, "u321203c", "321203", "county")
    resp = api("u321203c").post(url, json={"username": "uP1"})
    assert resp.status_code == 422 and "username" in resp.get_json()["error"]["fields"]
    # ... to a colleague: the colleague holds it now.
    resp = api("u321203c").post(url, json={"username": "u321203b"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["claimed_by"] == "u321203b"
    detail = api("u321203").get(f"/api/v1/tasks/{task_id}").get_json()
    assert detail["claimed_by"] == "u321203b" and detail["claimed_at"]
    # The old holder can no longer complete it; the new one can.
    done = f"/api/v1/tasks/{task_id}/complete"
    assert api("u321203").post(done, json={"data": {"decision": "approve"}}).status_code == 409
    # The lead releases the colleague's claim: free for anyone again.
    resp = api("u321203c").post(f"/api/v1/tasks/{task_id}/release")
    assert resp.status_code == 200 and resp.get_json()["claimed_by"] is None
    actions = [a.action for a in AuditLog.query.filter(AuditLog.action.like("task.%"))]
    assert actions == ["task.claim", "task.assign", "task.release"]
    assert api("u321203").post(done, json={"data": {"decision": "approve"}}).status_code == 200


def test_a_lead_may_not_hand_a_four_eyes_step_to_who_entered_it(api, world):
    student = world.student("P1", grade=3)
    _lead(world, "uP1c", "P1")
    resp = api("uP1").post(
        "/api/v1/instances",
        json={
            "procedure": "repeat_grade",
            "student_id": student.id,
            "data": {"to_grade": 2, "to_class_name": "1", "evidence": [upload(world.users["P1"])]},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    task_id = resp.get_json()["current_tasks"][0]["id"]
    url = f"/api/v1/tasks/{task_id}/assign"
    resp = api("uP1c").post(url, json={"username": "uP1"})
    assert resp.status_code == 422 and "四眼原则" in resp.get_json()["error"]["message"]
    assert api("uP1c").post(url, json={"username": "uP1b"}).status_code == 200


def test_a_claimed_task_is_read_only_for_a_colleague(client, login, api, world):
    _, started = _transfer(api, world)
    task_id = started["current_tasks"][0]["id"]
    world.user("u321203b", "321203", "county")
    db.session.commit()
    api("u321203").post(f"/api/v1/tasks/{task_id}/claim")
    login("u321203b")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "由 u321203 于" in html and "认领办理" in html
    assert "<fieldset disabled" in html and ">提交</button>" not in html
    assert "转交" not in html  # no lead
    # The holder sees the form to fill in.
    login("u321203")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<fieldset disabled" not in html and ">提交</button>" in html
    # A lead sees the actions and hands it over from the page.
    _lead(world, "u321203b", "321203", "county")
    login("u321203b")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "释放" in html and "转交" in html
    resp = client.post(
        f"/tasks/{task_id}/assign", data={"username": "u321203b"}, follow_redirects=True
    )
    assert "已转交给 u321203b" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).claimed_by.username == "u321203b"


def test_lead_flag_from_the_command_line_and_the_admin_page(runner, client, login, world):
    db.session.commit()
    result = runner.invoke(args=["set-lead", "uP1"])
    assert result.exit_code == 0 and "负责人" in result.output
    db.session.expire_all()
    assert world.users["P1"].lead is True
    result = runner.invoke(args=["set-lead", "nobody"])
    assert result.exit_code == 1 and "不存在" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "uP1lead",
            "--org",
            "P1",
            "--role",
            "school",
            "--password-stdin",
            "--lead",
        ],
        input="Lead-pass-2026!\n",
    )
    assert result.exit_code == 0, result.output
    assert "本单位负责人" in result.output
    login("admin")
    user_id = world.users["P1"].id
    resp = client.post(f"/admin/users/{user_id}/lead", follow_redirects=True)
    assert "已取消 uP1 的负责人身份" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert world.users["P1"].lead is False
    assert AuditLog.query.filter_by(action="user.set_lead").count() == 2


# -- four eyes up front ---------------------------------------------------------------------


def test_the_inbox_says_who_may_not_complete_a_four_eyes_step(client, login, api, world):
    student = world.student("P1", grade=3)
    db.session.commit()
    resp = api("uP1").post(
        "/api/v1/instances",
        json={
            "procedure": "repeat_grade",
            "student_id": student.id,
            "data": {"to_grade": 2, "to_class_name": "1", "evidence": [upload(world.users["P1"])]},
        },
    )
    task_id = resp.get_json()["current_tasks"][0]["id"]
    login("uP1")
    assert "需他人审核" in client.get("/").get_data(as_text=True)
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "需他人审核" in html and "<fieldset disabled" in html
    # The second registrar sees no badge and may complete it.
    login("uP1b")
    assert "需他人审核" not in client.get("/").get_data(as_text=True)
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "需他人审核" not in html and ">提交</button>" in html
