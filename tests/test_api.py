"""The JSON API as a script would use it: sign in, start, review, read back, upload."""

from __future__ import annotations

import io
import json
import struct
import zlib

from webapp.extensions import db
from webapp.models import AuditLog, FileUpload
from webapp.models.vocabulary import PROCEDURES
from webapp.uploads import MAX_BYTES

from .flows import transfer_data
from .world import PASSWORD


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def upload(as_user, name: str, content: bytes):
    return as_user.post("/api/v1/files", data={"file": (io.BytesIO(content), name)})


# -- tokens and errors ----------------------------------------------------------------------


def test_token_and_bearer(client, world):
    resp = client.post("/api/v1/auth/token", json={"username": "uP3", "password": PASSWORD})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["user"]["username"] == "uP3" and body["user"]["org_code"] == "P3"
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/procedures", headers=headers).status_code == 200
    assert AuditLog.query.filter_by(action="auth.token", user_id=world.users["P3"].id).count() == 1


def test_wrong_password_inactive_user_and_missing_token_are_401(client, world):
    resp = client.post("/api/v1/auth/token", json={"username": "uP3", "password": "nope"})
    assert resp.status_code == 401
    assert "密码" in resp.get_json()["error"]["message"]

    world.users["P3"].active = False
    db.session.commit()
    resp = client.post("/api/v1/auth/token", json={"username": "uP3", "password": PASSWORD})
    assert resp.status_code == 401

    resp = client.get("/api/v1/students")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    resp = client.get("/api/v1/students", headers={"Authorization": "Bearer forged.token"})
    assert resp.status_code == 401 and resp.get_json()["error"]["message"]


def test_token_of_a_deactivated_user_stops_working(client, world):
    token = client.post(
        "/api/v1/auth/token", json={"username": "uP1", "password": PASSWORD}
    ).get_json()["token"]
    world.users["P1"].active = False
    db.session.commit()
    resp = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401


def test_unknown_path_and_wrong_method_answer_json(api, world):
    as_p3 = api("uP3")
    resp = as_p3.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"
    resp = as_p3.get("/api/v1/files")
    assert resp.status_code == 405
    assert "POST" in resp.headers["Allow"]
    assert resp.get_json()["error"]["message"] == "该地址不支持此请求方法。"


def test_procedures_the_caller_may_start(api, world):
    items = api("uP3").get("/api/v1/procedures").get_json()["items"]
    assert {"key": "transfer", "name": "转学", "version": 1} in items
    assert {i["key"] for i in items} == {
        "transfer",
        "suspension",
        "resumption",
        "borrow",
        "borrow_return",
        "withdrawal",
        "cancellation",
        "skip_grade",
        "repeat_grade",
        "certificate_exchange",  # issue 14 item 11: a new procedure the school starts
        "info_change",
        "graduation",
    } | ({"registration"} if "registration" in PROCEDURES else set())
    assert all(i["version"] == 1 for i in items)
    assert api("u321203").get("/api/v1/procedures").get_json()["items"] == []


# -- a whole transfer through the API -------------------------------------------------------


def test_full_transfer_through_the_api(api, world):
    student = world.student("P1", grade=4)
    db.session.commit()
    as_p3 = api("uP3")
    resp = as_p3.post(
        "/api/v1/instances",
        json={"procedure": "transfer", "data": transfer_data(student, "P3")},
    )
    assert resp.status_code == 201, resp.get_json()
    started = resp.get_json()
    assert started["status"] == "running" and started["version"] == 1
    assert started["current_tasks"] == [
        {
            "id": started["current_tasks"][0]["id"],
            "name": "转入地县级教育行政部门审核",
            "step": "to_county_review",
            "lane": "to_county",
            "org_code": "321203",
        }
    ]

    for username, step in (
        ("u321203", "to_county_review"),
        ("uP1", "from_school_review"),
        ("u321202", "from_county_review"),
    ):
        reviewer = api(username)
        inbox = reviewer.get("/api/v1/tasks").get_json()
        assert inbox["total"] == 1
        (item,) = inbox["items"]
        assert item["step"] == step and item["student_name"] == student.name
        assert item["instance_id"] == started["id"] and item["overdue"] is False
        detail = reviewer.get(f"/api/v1/tasks/{item['id']}").get_json()
        assert [f["name"] for f in detail["form"]["fields"]] == [
            "decision",
            "comment",
            "requested_documents",
        ]
        assert detail["data"]["to_school_code"] == "P3"
        resp = reviewer.post(
            f"/api/v1/tasks/{item['id']}/complete", json={"data": {"decision": "approve"}}
        )
        assert resp.status_code == 200, resp.get_json()

    final = resp.get_json()
    assert final["status"] == "completed" and final["current_tasks"] == []
    assert [row["step"] for row in final["history"] if row["by"]] == [
        "start",
        "to_county_review",
        "from_school_review",
        "from_county_review",
    ]

    record = as_p3.get(f"/api/v1/students/{student.id}").get_json()
    assert record["school_code"] == "P3" and record["school_name"] == "高港实验小学"
    assert record["grade"] == 4 and record["borrowing"] is None
    assert len(record["history"]) == 1
    assert record["history"][0]["procedure"] == "transfer"
    assert record["history"][0]["instance_id"] == started["id"]
    assert record["history"][0]["before"]["school_code"] == "P1"
    # the sending school no longer holds the record
    assert api("uP1").get(f"/api/v1/students/{student.id}").status_code == 404

    listed = as_p3.get("/api/v1/instances?procedure=transfer&status=completed").get_json()
    assert [i["id"] for i in listed["items"]] == [started["id"]] and listed["total"] == 1
    diagram = as_p3.get(f"/api/v1/instances/{started['id']}/diagram").get_json()
    assert "from_county_review" in diagram["completed"] and diagram["active"] == []
    assert diagram["bpmn_xml"].lstrip().startswith("<?xml")


def test_second_completion_is_409(api, world):
    student = world.student("P1", grade=4)
    db.session.commit()
    started = (
        api("uP3")
        .post(
            "/api/v1/instances",
            json={"procedure": "transfer", "data": transfer_data(student, "P3")},
        )
        .get_json()
    )
    task_id = started["current_tasks"][0]["id"]
    county = api("u321203")
    url = f"/api/v1/tasks/{task_id}/complete"
    assert county.post(url, json={"data": {"decision": "approve"}}).status_code == 200
    resp = county.post(url, json={"data": {"decision": "approve"}})
    assert resp.status_code == 409
    assert "已办理" in resp.get_json()["error"]["message"]


# -- 422 and 409 ----------------------------------------------------------------------------


def test_reject_without_comment_is_422_naming_the_field(api, world):
    student = world.student("P1", grade=4)
    db.session.commit()
    started = (
        api("uP3")
        .post(
            "/api/v1/instances",
            json={"procedure": "transfer", "data": transfer_data(student, "P3")},
        )
        .get_json()
    )
    task_id = started["current_tasks"][0]["id"]
    resp = api("u321203").post(
        f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "reject"}}
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["comment"] == ["不同意或退回时必须填写理由。"]
    # nothing happened: the task is still waiting
    assert api("u321203").get("/api/v1/tasks").get_json()["total"] == 1


def test_bad_id_number_is_422(api, world):
    student = world.student("P1", grade=4)
    db.session.commit()
    bad = student.id_number[:-1] + ("0" if student.id_number[-1] != "0" else "1")
    resp = api("uP3").post(
        "/api/v1/instances",
        json={"procedure": "transfer", "data": transfer_data(student, "P3", id_number=bad)},
    )
    assert resp.status_code == 422
    assert "身份证号" in resp.get_json()["error"]["fields"]["id_number"][0]
    resp = api("uP3").post("/api/v1/instances", json={"procedure": "nonsense", "data": {}})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["procedure"] == ["业务类型不存在。"]


def test_second_start_for_the_same_student_is_409(api, world):
    """409 to the school that already started it; another school's start by ID number is
    answered as a wrong ID number would be (it must not learn of the other procedure)."""
    student = world.student("P1", grade=4)
    db.session.commit()
    body = {"procedure": "transfer", "data": transfer_data(student, "P3")}
    assert api("uP3").post("/api/v1/instances", json=body).status_code == 201
    again = api("uP3").post("/api/v1/instances", json=body)
    assert again.status_code == 409 and "正在办理" in again.get_json()["error"]["message"]
    as_p4 = api("uP4")
    other = as_p4.post(
        "/api/v1/instances",
        json={"procedure": "transfer", "data": transfer_data(student, "P4")},
    )
    wrong = as_p4.post(
        "/api/v1/instances",
        json={"procedure": "transfer", "data": transfer_data(student, "P4", name="别人")},
    )
    assert other.status_code == wrong.status_code == 422
    assert other.get_json() == wrong.get_json()


def test_lists_are_paginated_and_capped(api, world):
    for _ in range(3):
        world.student("P1", grade=2)
    db.session.commit()
    as_p1 = api("uP1")
    page = as_p1.get("/api/v1/students?per_page=2&page=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert as_p1.get("/api/v1/students?per_page=1000").get_json()["total"] == 3
    resp = as_p1.get("/api/v1/students?page=0")
    assert resp.status_code == 422 and "page" in resp.get_json()["error"]["fields"]


def test_student_search_by_name_id_number_and_status_number(api, world):
    target = world.student("P1", grade=3, name="王小明")
    world.student("P1", grade=3, name="李四")
    db.session.commit()
    as_p1 = api("uP1")
    for q in ("小明", target.id_number, target.status_number):
        items = as_p1.get("/api/v1/students", query_string={"q": q}).get_json()["items"]
        assert [s["id"] for s in items] == [target.id], q
    # jurisdiction applies to searches too
    assert api("uP2").get("/api/v1/students", query_string={"q": "小明"}).get_json()["total"] == 0


# -- files ----------------------------------------------------------------------------------


def test_upload_accepts_png_and_pdf_and_gives_them_back(api, world):
    as_p3 = api("uP3")
    resp = upload(as_p3, "户籍证明.png", png_bytes())
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["content_type"] == "image/png" and body["size"] == len(png_bytes())
    assert body["name"] == "户籍证明.png"
    resp = upload(as_p3, "scan.PDF", PDF)
    assert resp.status_code == 201 and resp.get_json()["content_type"] == "application/pdf"
    got = as_p3.get(f"/api/v1/files/{body['id']}")
    assert got.status_code == 200 and got.data == png_bytes()
    assert AuditLog.query.filter_by(action="file.upload").count() == 2


def test_upload_refuses_anything_else_and_keeps_nothing(api, world):
    as_p3 = api("uP3")
    cases = [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60),
        ("fake.pdf", "这其实是一个文本文件".encode()),
        ("photo.png", b"%PDF-1.4 but named png"),
        ("big.pdf", PDF + b"\x00" * MAX_BYTES),
    ]
    for name, content in cases:
        resp = upload(as_p3, name, content)
        assert resp.status_code == 422, name
        error = resp.get_json()["error"]
        assert error["fields"]["file"], name
        assert any(word in error["message"] for word in ("PDF", "10 MB")), name
    resp = as_p3.post("/api/v1/files", data={})
    assert resp.status_code == 422
    assert FileUpload.query.count() == 0


# -- the OpenAPI document -------------------------------------------------------------------


def test_openapi_lists_every_path_with_schemas(client, app):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = json.loads(resp.data)
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) >= {
        "/api/v1/auth/token",
        "/api/v1/files",
        "/api/v1/files/{file_id}",
        "/api/v1/procedures",
        "/api/v1/students",
        "/api/v1/students/{student_id}",
        "/api/v1/instances",
        "/api/v1/instances/{instance_id}",
        "/api/v1/instances/{instance_id}/diagram",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}",
        "/api/v1/tasks/{task_id}/complete",
        "/api/v1/models",
        "/api/v1/models/{procedure}/versions",
    }
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearerAuth": []}]
    schemas = doc["components"]["schemas"]
    assert {"StudentOut", "InstanceOut", "TaskDetailOut", "form.review"} <= set(schemas)
    assert schemas["form.review"]["properties"]["decision"]["enum"] == [
        "approve",
        "reject",
        "return",
    ]
    # every reference resolves inside the document
    refs = {
        ref.split("/")[-1]
        for ref in _values(doc, "$ref")
        if ref.startswith("#/components/schemas/")
    }
    assert refs <= set(schemas)


def _values(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            else:
                yield from _values(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item, key)


def test_unexpected_failure_is_json_500(api, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("webapp.api.routes.deploy.latest", broken)
    resp = api("uP3").get("/api/v1/procedures")
    assert resp.status_code == 500
    assert resp.get_json()["error"] == {
        "code": "internal_error",
        "message": "服务器内部错误，请稍后重试或联系管理员。",
    }


def test_unknown_body_field_is_422_in_chinese(api, world):
    resp = api("uP3").post("/api/v1/instances", json={"procedure": "transfer", "studnet_id": 1})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["studnet_id"] == ["不支持的字段。"]


def test_api_times_are_rfc3339_with_a_zone(api, world):
    from datetime import datetime

    student = world.student("P1", grade=4)
    as_p3 = api("uP3")
    body = as_p3.post(
        "/api/v1/instances", json={"procedure": "transfer", "data": transfer_data(student, "P3")}
    ).get_json()
    times = [body["created_at"], body["updated_at"], *(h["at"] for h in body["history"])]
    times += [t["created_at"] for t in api("u321203").get("/api/v1/tasks").get_json()["items"]]
    assert len(times) >= 4
    for value in times:
        assert datetime.fromisoformat(value).utcoffset() is not None, value
        assert value.endswith("+00:00")
