"""Real answers of every API operation, on records that exist, match the OpenAPI document
(schemathesis validates each against its documented status, content type and schema;
tests/fuzz_api.sh throws generated input at the same document)."""

from __future__ import annotations

import io

import schemathesis

from webapp.extensions import db
from webapp.models import Instance

from .flows import borrow_data, enrol, evidence, transfer_data
from .test_api import png_bytes
from .test_import_jobs import csv_bytes, student_row


def test_answers_on_real_records_match_the_document(client, api, world):
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    checked: list[tuple[str, str]] = []

    def check(method: str, path: str, resp, status: int) -> dict:
        assert resp.status_code == status, (path, resp.get_json())
        schema[path][method].validate_response(resp)
        checked.append((method, path))
        return resp.get_json() if resp.is_json else {}

    enrol(world, "P3")
    borrower = world.student("P2", grade=4)
    mover = world.student("P1", grade=4)
    as_p1, as_p3, as_county, as_admin = api("uP1"), api("uP3"), api("u321203"), api("admin")
    token = client.post("/api/v1/auth/token", json={"username": "uP1", "password": "pw-123456"})
    check("POST", "/api/v1/auth/token", token, 200)
    f = check(
        "POST",
        "/api/v1/files",
        as_p1.post("/api/v1/files", data={"file": (io.BytesIO(png_bytes()), "证明.png")}),
        201,
    )
    check("GET", "/api/v1/files/{file_id}", as_p1.get(f"/api/v1/files/{f['id']}"), 200)
    check("GET", "/api/v1/procedures", as_p1.get("/api/v1/procedures"), 200)
    started = check(
        "POST",
        "/api/v1/instances",
        as_p3.post(
            "/api/v1/instances",
            json={"procedure": "transfer", "data": transfer_data(mover, "P3")},
        ),
        201,
    )
    borrow = check(
        "POST",
        "/api/v1/instances",
        as_p3.post(
            "/api/v1/instances", json={"procedure": "borrow", "data": borrow_data(borrower, "P3")}
        ),
        201,
    )
    cancel = as_p1.post(
        "/api/v1/instances",
        json={
            "procedure": "cancellation",
            "student_id": mover.id,
            "data": {"reason": "death", "evidence": evidence(world.users["P1"])},
        },
    )
    check("POST", "/api/v1/instances", cancel, 409)
    iid = started["id"]
    check("GET", "/api/v1/instances", as_p3.get("/api/v1/instances"), 200)
    check("GET", "/api/v1/instances/{instance_id}", as_p3.get(f"/api/v1/instances/{iid}"), 200)
    check(
        "GET",
        "/api/v1/instances/{instance_id}/diagram",
        as_p3.get(f"/api/v1/instances/{iid}/diagram"),
        200,
    )
    tasks = check("GET", "/api/v1/tasks", as_county.get("/api/v1/tasks"), 200)
    tid = next(t["id"] for t in tasks["items"] if t["instance_id"] == iid)
    check("GET", "/api/v1/tasks/{task_id}", as_county.get(f"/api/v1/tasks/{tid}"), 200)
    check(
        "POST", "/api/v1/tasks/{task_id}/claim", as_county.post(f"/api/v1/tasks/{tid}/claim"), 200
    )
    check(
        "POST",
        "/api/v1/tasks/{task_id}/release",
        as_county.post(f"/api/v1/tasks/{tid}/release"),
        200,
    )
    world.users["321203"].lead = True  # the county's lead hands the task to itself
    db.session.commit()
    handed = as_county.post(f"/api/v1/tasks/{tid}/assign", json={"username": "u321203"})
    check("POST", "/api/v1/tasks/{task_id}/assign", handed, 200)
    done = as_county.post(f"/api/v1/tasks/{tid}/complete", json={"data": {"decision": "approve"}})
    check("POST", "/api/v1/tasks/{task_id}/complete", done, 200)
    said = as_county.post(f"/api/v1/instances/{iid}/comments", json={"text": "已审核"})
    check("POST", "/api/v1/instances/{instance_id}/comments", said, 201)
    taken_back = as_p3.post(f"/api/v1/instances/{iid}/withdraw", json={"comment": "家长撤回"})
    check("POST", "/api/v1/instances/{instance_id}/withdraw", taken_back, 200)
    refused = api("uP2").post(
        f"/api/v1/instances/{borrow['id']}/refuse", json={"comment": "家长未申请借读"}
    )
    check("POST", "/api/v1/instances/{instance_id}/refuse", refused, 200)
    check("GET", "/api/v1/students", as_p1.get("/api/v1/students"), 200)
    check("GET", "/api/v1/students/{student_id}", as_p1.get(f"/api/v1/students/{mover.id}"), 200)
    check("GET", "/api/v1/models", as_admin.get("/api/v1/models"), 200)
    bad = as_admin.post("/api/v1/models/transfer/versions", json={"bpmn_xml": "<x/>"})
    check("POST", "/api/v1/models/{procedure}/versions", bad, 422)
    sheet = io.BytesIO(csv_bytes([student_row(1)]))
    job = check(
        "POST",
        "/api/v1/imports",
        as_p1.post("/api/v1/imports", data={"kind": "students", "file": (sheet, "名单.csv")}),
        201,
    )
    confirmed = as_p1.post(f"/api/v1/imports/{job['id']}/confirm")
    check("POST", "/api/v1/imports/{job_id}/confirm", confirmed, 202)
    check("GET", "/api/v1/imports/{job_id}", as_p1.get(f"/api/v1/imports/{job['id']}"), 200)
    assert db.session.get(Instance, borrow["id"]).status == "rejected"
    again = as_county.post("/api/v1/tasks/complete", json={"task_ids": [tid], "data": {}})
    check("POST", "/api/v1/tasks/complete", again, 422)  # the step's form wants a decision
    batch = {"task_ids": [tid], "data": {"decision": "approve"}}
    check(
        "POST", "/api/v1/tasks/complete", as_county.post("/api/v1/tasks/complete", json=batch), 200
    )
    resumed = as_p1.post("/api/v1/resumptions", json={"student_ids": [mover.id], "data": {}})
    check("POST", "/api/v1/resumptions", resumed, 200)

    documented = {(m.upper(), p) for p, ops in schema.raw_schema["paths"].items() for m in ops}
    assert documented - {("GET", "/api/v1/openapi.json")} == set(checked)
