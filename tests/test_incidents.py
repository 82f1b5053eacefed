"""Incidents in the browser: who sees them, retry continues the instance, cancel ends it."""

from __future__ import annotations

from webapp.models import Incident, Instance
from workflows import engine, persistence

from .flows import evidence


def failed_instance(world) -> Instance:
    """A cancellation whose automatic step failed for good (as a worker would record it)."""
    student = world.student("P1", grade=3)
    instance = engine.start(
        "cancellation",
        world.users["P1"],
        {"reason": "death", "evidence": evidence(world.users["P1"])},
        student_id=student.id,
    )
    persistence.record_incident(instance.id, "cancellation.finalize", "RuntimeError: 数据库超时", 3)
    return instance


def test_the_county_sees_its_incidents_and_retries(world, login):
    instance = failed_instance(world)
    assert instance.status == "error"
    county = login("u321202")
    page = county.get("/incidents").get_data(as_text=True)
    assert "cancellation.finalize" in page and "数据库超时" in page
    incident = Incident.query.one()
    resp = county.post(f"/incidents/{incident.id}/retry", follow_redirects=True)
    assert "已重新执行" in resp.get_data(as_text=True)
    assert instance.status == "running" and incident.resolution == "retried"
    assert [t.step for t in engine.open_tasks(instance)] == ["county_review"]


def test_cancel_needs_a_reason_and_ends_the_instance(world, login):
    instance = failed_instance(world)
    incident = Incident.query.one()
    admin = login("admin")
    resp = admin.post(
        f"/incidents/{incident.id}/cancel", data={"comment": ""}, follow_redirects=True
    )
    assert "撤销业务须填写理由" in resp.get_data(as_text=True)
    admin.post(f"/incidents/{incident.id}/cancel", data={"comment": "学生信息有误，重新办理"})
    assert (instance.status, instance.reason) == ("cancelled", "incident_cancelled")
    assert instance.open_student_id is None
    assert engine.open_tasks(instance) == []


def test_incidents_outside_reach_or_role_are_hidden(world, login):
    failed_instance(world)
    incident = Incident.query.one()
    other = login("u321203")
    assert "cancellation.finalize" not in other.get("/incidents").get_data(as_text=True)
    assert other.post(f"/incidents/{incident.id}/retry").status_code == 404
    school = login("uP1")
    assert school.get("/incidents").status_code == 403
    assert school.post(f"/incidents/{incident.id}/retry").status_code == 403
    assert Incident.query.one().resolved_at is None
