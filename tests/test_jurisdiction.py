"""Jurisdiction on the API: every endpoint that takes an id answers 404 outside the caller's reach.

The cases are keyed by endpoint and checked against the blueprint's url map, so a new
endpoint that takes an id fails this test until it has a case here.
"""

from __future__ import annotations

import io

import pytest

from webapp.extensions import db
from webapp.models import HumanTask, Instance

from .flows import borrow_data, enrol, evidence, transfer_data
from .test_api import png_bytes
from .test_import_jobs import student_row, xlsx

# endpoint → (method, url template, JSON body, outsiders, an insider who does reach it, status)
CASES = {
    "api.student": ("GET", "/students/{student}", None, ("uP2", "uP4", "u321203"), "uP1", 200),
    "api.instance": ("GET", "/instances/{instance}", None, ("uP2", "uP4", "u321002"), "uP1", 200),
    "api.instance_diagram": (
        "GET",
        "/instances/{instance}/diagram",
        None,
        ("uP2", "uP4", "u321002"),
        "u3212",
        200,
    ),
    "api.task": ("GET", "/tasks/{task}", None, ("u321202", "uP3", "uP4", "u3212"), "u321203", 200),
    "api.claim_task": ("POST", "/tasks/{task}/claim", None, ("u321202", "uP3"), "u321203", 200),
    # reached but not claimed by the insider: 403, not 404
    "api.release_task": ("POST", "/tasks/{task}/release", None, ("u321202", "uP3"), "u321203", 403),
    # no insider here: completing would change state (see test_the_right_county_can_still_complete)
    "api.complete_task": (
        "POST",
        "/tasks/{task}/complete",
        {"data": {"decision": "approve"}},
        ("u321202", "uP3", "u3212", "admin"),
        None,
        None,
    ),
    "api.download_file": ("GET", "/files/{file}", None, ("uP2", "uP4", "u321002"), "uP1", 200),
    # no insider here: refusing ends the instance (see tests/test_identity_starts.py)
    "api.refuse_instance": (
        "POST",
        "/instances/{instance}/refuse",
        {"comment": "本校未提出"},
        ("uP2", "uP4", "u321002"),
        None,
        None,
    ),
    # one's own imports only: another registrar of the same school, the county, the admin
    "api.get_import": ("GET", "/imports/{import}", None, ("uP3b", "u321203", "admin"), "uP3", 200),
    "api.confirm_import": (
        "POST",
        "/imports/{import}/confirm",
        None,
        ("uP3b", "u321203", "admin"),
        "uP3",
        202,
    ),
    # the pupil's school is involved: it may comment, but withdrawing is the applicant's
    "api.comment_instance": (
        "POST",
        "/instances/{instance}/comments",
        {"text": "请补充户籍证明"},
        ("uP2", "uP4", "u321002"),
        "uP1",
        201,
    ),
    "api.withdraw_instance": (
        "POST",
        "/instances/{instance}/withdraw",
        {"comment": "填写有误"},
        ("uP2", "uP4", "u321002"),
        "uP1",
        409,
    ),
    # reached, but the insider is not the organisation's lead: 403
    "api.assign_task": (
        "POST",
        "/tasks/{task}/assign",
        {"username": "u321203"},
        ("u321202", "uP3"),
        "u321203",
        403,
    ),
    "api.no_such_route": ("GET", "/students/{student}/secrets", None, ("uP1",), None, None),
}


@pytest.fixture
def records(api, world):
    """A P1 pupil moving to P3, its first review waiting at county 321203, and cited evidence."""
    student = world.student("P1", grade=4)
    db.session.commit()
    as_p3 = api("uP3")
    file_id = as_p3.post(
        "/api/v1/files", data={"file": (io.BytesIO(png_bytes()), "户籍证明.png")}
    ).get_json()["id"]
    started = as_p3.post(
        "/api/v1/instances", json={"procedure": "transfer", "data": transfer_data(student, "P3")}
    ).get_json()
    world.user("uP3b", "P3", "school")
    db.session.commit()
    sheet = (io.BytesIO(xlsx([student_row(1, school="P3")])), "名单.xlsx")
    job = as_p3.post("/api/v1/imports", data={"kind": "students", "file": sheet}).get_json()
    instance = db.session.get(Instance, started["id"])
    instance.data = {**instance.data, "evidence": [file_id]}
    db.session.commit()
    return {
        "student": student.id,
        "instance": instance.id,
        "task": started["current_tasks"][0]["id"],
        "file": file_id,
        "import": job["id"],
    }


def _call(api, username: str, method: str, url: str, body):
    caller = api(username)
    return caller.post(url, json=body) if method == "POST" else caller.get(url)


# Endpoints that take a key but hold no records of any jurisdiction: admins only (403).
ADMIN_ONLY = {"api.deploy_version": ("POST", "/models/transfer/versions")}


def test_every_id_taking_endpoint_is_covered(app):
    id_rules = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.arguments
    }
    assert id_rules == set(CASES) | set(ADMIN_ONLY)


@pytest.mark.parametrize("endpoint", sorted(ADMIN_ONLY))
def test_admin_only_endpoints_refuse_everyone_else(api, records, endpoint):
    method, url = ADMIN_ONLY[endpoint]
    for username in ("uP1", "u321202", "u3212"):
        resp = _call(api, username, method, "/api/v1" + url, {"bpmn_xml": "<x/>"})
        assert resp.status_code == 403, (endpoint, username)


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_out_of_reach_is_404(api, records, endpoint):
    method, template, body, outsiders, insider, status = CASES[endpoint]
    url = "/api/v1" + template.format(**records)
    for username in outsiders:
        resp = _call(api, username, method, url, body)
        assert resp.status_code == 404, (endpoint, username, resp.get_json())
        assert resp.get_json()["error"]["code"] == "not_found"
        assert resp.get_json()["error"]["message"]
    if insider is not None:
        resp = _call(api, insider, method, url, body)
        assert resp.status_code == status, (endpoint, insider, resp.get_json())
    task = db.session.get(HumanTask, records["task"])
    db.session.refresh(task)
    assert task.state == "open" and task.completed_by_id is None


def test_the_right_county_can_still_complete(api, records):
    """The complete case has no insider above (it would change state); prove reach here."""
    resp = api("u321203").post(
        f"/api/v1/tasks/{records['task']}/complete", json={"data": {"decision": "approve"}}
    )
    assert resp.status_code == 200


def test_evidence_is_readable_only_where_the_instance_is(api, records):
    url = f"/api/v1/files/{records['file']}"
    for username in ("uP3", "uP1", "u321202", "u321203", "u3212", "admin"):
        assert api(username).get(url).status_code == 200, username
    # an upload nobody cites stays with its uploader
    own = (
        api("uP1")
        .post("/api/v1/files", data={"file": (io.BytesIO(png_bytes()), "a.png")})
        .get_json()["id"]
    )
    assert api("uP1b").get(f"/api/v1/files/{own}").status_code == 404
    assert api("uP1").get(f"/api/v1/files/{own}").status_code == 200


def test_lists_show_only_what_is_in_reach(api, records):
    assert api("uP4").get("/api/v1/instances").get_json() == {"items": [], "total": 0}
    assert api("u321002").get("/api/v1/students").get_json()["total"] == 0
    assert [i["id"] for i in api("uP1").get("/api/v1/instances").get_json()["items"]] == [
        records["instance"]
    ]
    assert api("u321202").get("/api/v1/tasks").get_json()["total"] == 0
    assert api("u321203").get("/api/v1/tasks").get_json()["total"] == 1


# -- borrow-study: the host side reaches a borrowing student, and only while it borrows -----

HOST_SIDE = ("uP4", "u321002", "u3210")  # 扬州: no reach over the home school in 泰州


def _complete(api, username: str, started: dict) -> None:
    task = started["current_tasks"][0]["id"]
    resp = api(username).post(
        f"/api/v1/tasks/{task}/complete", json={"data": {"decision": "approve"}}
    )
    assert resp.status_code == 200, resp.get_json()


def test_host_side_reaches_a_borrowing_student_only_while_it_borrows(api, world):
    enrol(world, "P4")
    student = world.student("P1", grade=4)
    url = f"/api/v1/students/{student.id}"
    as_p4 = api("uP4")
    started = as_p4.post(
        "/api/v1/instances", json={"procedure": "borrow", "data": borrow_data(student, "P4")}
    ).get_json()
    for username in HOST_SIDE:  # not before the borrow-study is done
        assert api(username).get(url).status_code == 404, username
    _complete(api, "uP1", started)
    for username in HOST_SIDE:
        assert api(username).get(url).status_code == 200, username
        found = api(username).get("/api/v1/students", query_string={"q": student.id_number})
        listed = found.get_json()["items"]
        assert student.id in [s["id"] for s in listed], username
    for username in ("uP2", "uP3", "u321203"):
        assert api(username).get(url).status_code == 404, username

    # the host may end the borrowing, and start nothing that belongs to the home school
    refused = as_p4.post(
        "/api/v1/instances",
        json={
            "procedure": "cancellation",
            "student_id": student.id,
            "data": {"reason": "death", "evidence": evidence(world.users["P4"])},
        },
    )
    assert refused.status_code == 403 and "学籍所在学校" in refused.get_json()["error"]["message"]
    ended = as_p4.post(
        "/api/v1/instances",
        json={
            "procedure": "borrow_return",
            "student_id": student.id,
            "data": {"end_date": "2027-01-20", "results": "语文 90，数学 88"},
        },
    ).get_json()
    _complete(api, "uP1", ended)

    for username in HOST_SIDE:
        assert api(username).get(url).status_code == 404, username
    assert api("uP1").get(url).status_code == 200
    # the procedures it took part in stay visible to the host side
    assert as_p4.get(f"/api/v1/instances/{ended['id']}").status_code == 200
    assert as_p4.get(f"/api/v1/instances/{started['id']}").status_code == 200
