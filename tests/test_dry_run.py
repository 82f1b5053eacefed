"""Check before creating (issue 16 point 1, DESIGN "Dry run"): the first automatic checks run
on the application before anything is made, through the API (`dry_run`) and every browser
start form; a refusal leaves one audit row and nothing else."""

from __future__ import annotations

import io

from webapp.models import AuditLog, Instance, InstanceEvent

from .test_status_change import upload
from .test_suspension import START

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def _traces():
    return Instance.query.count(), InstanceEvent.query.count(), AuditLog.query.count()


def _body(student, hours: int, user, dry_run=True) -> dict:
    data = {
        "reason": "illness",
        "absence_hours": hours,
        "start_date": START.isoformat(),
        "evidence": [upload(user)],
    }
    return {"procedure": "suspension", "student_id": student.id, "data": data, "dry_run": dry_run}


def test_a_refused_dry_run_creates_nothing_but_the_audited_attempt(world, api):
    student = world.student("P1", grade=4)
    caller = api("uP1")
    instances, events, audits = _traces()
    resp = caller.post("/api/v1/instances", json=_body(student, 30, world.users["P1"]))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ok"] is False
    (refusal,) = body["refusals"]
    assert refusal["rule"] == "absence_threshold"
    assert refusal["title"] == "缺课须达到休学条件"
    assert "210" in refusal["message"] and "30" in refusal["message"]
    assert "absence_hours" in refusal["fields"]
    assert _traces()[:2] == (instances, events)
    (attempt,) = AuditLog.query.filter(AuditLog.id > 0).order_by(AuditLog.id.desc()).limit(1)
    assert _traces()[2] == audits + 1
    assert attempt.action == "suspension.start_refused"
    assert attempt.user_id == world.users["P1"].id
    assert (attempt.object_type, attempt.object_id) == ("student", str(student.id))


def test_an_accepted_dry_run_says_ok_and_creates_nothing_either(world, api):
    student = world.student("P1", grade=4)
    caller = api("uP1")
    before = _traces()
    resp = caller.post("/api/v1/instances", json=_body(student, 220, world.users["P1"]))
    assert resp.status_code == 200
    assert resp.get_json() == {"ok": True, "refusals": []}
    assert _traces() == before
    # the same application, not a dry run, starts the instance
    started = caller.post("/api/v1/instances", json=_body(student, 220, world.users["P1"], False))
    assert started.status_code == 201 and started.get_json()["status"] == "running"


def test_a_dry_run_with_bad_form_data_is_a_422_naming_the_field(world, api):
    student = world.student("P1", grade=4)
    body = _body(student, 30, world.users["P1"])
    body["data"]["absence_hours"] = "很多"
    resp = api("uP1").post("/api/v1/instances", json=body)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["absence_hours"] == ["缺课课时必须是整数。"]
    assert Instance.query.count() == 0


def _post_form(client, student, hours: str):
    return client.post(
        f"/students/{student.id}/start/suspension",
        data={
            "reason": "illness",
            "absence_hours": hours,
            "start_date": START.isoformat(),
            "evidence": (io.BytesIO(PDF), "诊断证明.pdf"),
        },
        content_type="multipart/form-data",
    )


def _beside(page: str, field: str) -> str:
    """The field's block on the page: its label, input and messages."""
    (block,) = [b for b in page.split('<div class="field') if f'id="f-{field}"' in b]
    return block


def test_the_browser_form_shows_the_refusal_beside_the_field_and_keeps_what_was_typed(world, login):
    student = world.student("P1", grade=4)
    client = login("uP1")
    before = _traces()
    resp = _post_form(client, student, "30")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    block = _beside(page, "absence_hours")
    assert "缺课须达到休学条件：" in block and "缺课超过 210 课时" in block
    assert 'value="30"' in block  # what was typed stays
    assert "absence_threshold" not in page and "。。" not in page
    assert _traces()[:2] == before[:2]
    assert _traces()[2] == before[2] + 1  # the attempt, audited
    # corrected, the same form starts the instance
    resp = _post_form(client, student, "230")
    assert resp.status_code == 302
    (instance,) = Instance.query.all()
    assert instance.status == "running"
