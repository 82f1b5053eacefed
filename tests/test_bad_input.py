"""No input gets a 500: every route with ids past the columns and pages past any list, NUL
bytes, lone surrogates, deep JSON, oversized CSV cells and unknown ID area codes are 4xx
answers with a Chinese message naming the field, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
import re

import pytest

from forms.validators import build_id_number
from webapp.extensions import db
from webapp.models import Instance, Student

from .flows import transfer_data
from .world import PASSWORD, build_world

HUGE_ID = 2**70
HUGE_PAGE = 10**30
# An area code the checksum library knows the province of but not the county (it raised).
UNKNOWN_AREA = "119999"
_PARAM = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")


def urls(app) -> list[tuple[str, str, bool]]:
    """(method, url, has an id) for every route, ids 2**70 and other parameters "x"."""
    out = []
    for rule in app.url_map.iter_rules():
        # Signing out (here or everywhere) would end the sweep.
        if rule.endpoint in ("static", "auth.logout", "auth.sign_out_everywhere"):
            continue
        url = _PARAM.sub(lambda m: str(HUGE_ID) if m.group(1) == "int" else "x", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            out.append((method, url, "<int:" in rule.rule))
    return out


def signed_in(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code in (302, 303)
    token = client.post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    ).get_json()["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def sweep(app) -> None:
    """Every route as a school, a county and an admin: huge ids are 404, huge pages (and
    other numbers in the query) 4xx."""
    build_world()
    db.session.commit()
    for username in ("uP1", "u321202", "admin"):
        client = signed_in(app, username)
        for method, url, has_id in urls(app):
            query = {"page": HUGE_PAGE, "per_page": HUGE_PAGE, "org": HUGE_ID}
            resp = client.open(url, method=method, query_string=query)
            assert resp.status_code < 500, (username, method, url, resp.status_code)
            if has_id:
                assert resp.status_code == 404, (username, method, url, resp.status_code)
            if resp.status_code in (404, 422) and url.startswith("/api/"):
                assert re.search(r"[\u4e00-\u9fff]", resp.get_json()["error"]["message"]), url
        if username == "uP1":
            hostile_everywhere(client, app)
        listed = client.get("/api/v1/students", query_string={"page": HUGE_PAGE})
        assert listed.status_code == 422 and "page" in listed.get_json()["error"]["fields"]
        assert client.get("/students", query_string={"page": HUGE_PAGE}).status_code == 404
        assert client.get("/students", query_string={"page": 1}).status_code == 200  # control


def hostile_everywhere(client, app) -> None:
    """Every route: NUL in the query is 422, deep JSON 400, a lone surrogate in JSON 422."""
    deep = "[" * 50_000 + "]" * 50_000
    lone = '{"q": "\\ud800"}'
    for method, url, _ in urls(app):
        resp = client.open(url, method=method, query_string={"q": "x\x00"})
        assert resp.status_code == 422, (method, url, resp.status_code)
        if method == "POST":
            for body, status in ((deep, 400), (lone, 422)):
                resp = client.post(url, data=body, content_type="application/json")
                assert resp.status_code == status, (url, body[:10], resp.status_code)


def test_every_route_with_huge_ids_and_pages_on_sqlite(app):
    sweep(app)


@pytest.mark.postgres
def test_every_route_with_huge_ids_and_pages_on_postgres(pg_app):
    sweep(pg_app)


def _hostile_requests(app, world) -> None:
    as_p3 = signed_in(app, "uP3")
    student = world.student("P1", grade=4)
    start = {"procedure": "transfer", "data": transfer_data(student, "P3")}

    resp = as_p3.get("/api/v1/students", query_string={"q": "张\x00三"})
    assert resp.status_code == 422 and "空字符" in resp.get_json()["error"]["fields"]["q"][0]
    assert as_p3.get("/students", query_string={"q": "a\x00"}).status_code == 422
    assert "空字符" in as_p3.get("/students", query_string={"q": "a\x00"}).text

    body = json.loads(json.dumps(start))
    body["data"]["note"] = "说明\x00"
    resp = as_p3.post("/api/v1/instances", json=body)
    assert resp.status_code == 422 and "data.note" in resp.get_json()["error"]["fields"]

    raw = json.dumps(start).replace('"note": ""', '"note": "\\ud800"')
    resp = as_p3.post("/api/v1/instances", data=raw, content_type="application/json")
    error = resp.get_json()["error"]
    assert resp.status_code == 422 and "代理项" in error["fields"]["data.note"][0]

    deep = "[" * 50_000 + "]" * 50_000
    resp = as_p3.post("/api/v1/instances", data=deep, content_type="application/json")
    assert resp.status_code == 400 and "嵌套" in resp.get_json()["error"]["message"]

    resp = as_p3.post("/api/v1/instances", json={**start, "student_id": HUGE_ID})
    assert resp.status_code == 422 and "student_id" in resp.get_json()["error"]["fields"]

    data = {**start["data"], "evidence": [HUGE_ID]}
    resp = as_p3.post("/api/v1/instances", json={"procedure": "transfer", "data": data})
    assert resp.status_code == 422 and "evidence" in resp.get_json()["error"]["fields"]
    assert Instance.query.count() == 0

    resp = as_p3.post("/api/v1/instances", json=start)  # the control: the same start, clean
    assert resp.status_code == 201, resp.get_json()


def test_nul_surrogates_and_deep_json_on_sqlite(app, world):
    _hostile_requests(app, world)


@pytest.mark.postgres
def test_nul_surrogates_and_deep_json_on_postgres(pg_app):
    world = build_world()
    db.session.commit()
    _hostile_requests(pg_app, world)


def unknown_area_id() -> str:
    from datetime import date

    return build_id_number(UNKNOWN_AREA, date(2016, 3, 1), 5, "M")


def test_an_unknown_area_code_is_a_field_error_in_starts_and_imports(app, world, runner, tmp_path):
    as_p3 = signed_in(app, "uP3")
    student = world.student("P1", grade=4)
    data = transfer_data(student, "P3", id_number=unknown_area_id())
    resp = as_p3.post("/api/v1/instances", json={"procedure": "transfer", "data": data})
    assert resp.status_code == 422
    assert "行政区划代码" in resp.get_json()["error"]["fields"]["id_number"][0]

    sheet = tmp_path / "roll.csv"
    row = f"{unknown_area_id()},王五,M,2016-03-01,P1,4,1,2023,321202,,"
    sheet.write_text(
        "id_number,name,gender,birth_date,school_code,grade,class_name,entry_year,"
        "household_code,guardian_name,guardian_phone\n" + row + "\n"
    )
    result = runner.invoke(args=["import", "students", str(sheet)])
    assert result.exit_code != 0
    assert "第 2 行，字段 id_number" in result.output and "行政区划代码" in result.output
    assert Student.query.count() == 1  # only the world's one


def test_registration_rows_with_an_unknown_area_code_come_back_to_the_school(app, world):
    as_p1 = signed_in(app, "uP1")
    row = {
        "id_number": unknown_area_id(),
        "name": "王五",
        "gender": "M",
        "birth_date": "2016-03-01",
        "grade": 1,
    }
    data = {"school_code": "P1", "entry_year": 2022, "rows": [row]}
    resp = as_p1.post("/api/v1/instances", json={"procedure": "registration", "data": data})
    assert resp.status_code == 201, resp.get_json()
    check = resp.get_json()["data"]["check"]
    assert not check["ok"]
    assert [(p["row"], p["field"]) for p in check["problems"]][:1] == [(1, "id_number")]
    assert "行政区划代码" in check["problems"][0]["message"]


def test_csv_cells_too_large_or_with_nul_name_the_row(app, world, runner, tmp_path):
    header = "code,name,level,parent_code\n"
    for content, words in [
        (header + "X1," + "名" * 140_000 + ",school,321202\n", ("第 2 行", "131072")),
        (header + "X1,名\x00字,county,3212\n", ("第 2 行", "name", "空字符")),
    ]:
        sheet = tmp_path / "orgs.csv"
        sheet.write_text(content)
        result = runner.invoke(args=["import", "orgs", str(sheet)])
        assert result.exit_code != 0 and all(w in result.output for w in words), result.output
    sheet.write_text(header + "X1,新区,county,3212\n")  # the control
    assert runner.invoke(args=["import", "orgs", str(sheet)]).exit_code == 0


def test_a_registration_sheet_with_a_huge_cell_is_refused_on_the_form(app, world, login):
    client = login("uP1")
    sheet = "id_number,name\n" + "1," + "x" * 140_000 + "\n"
    resp = client.post(
        "/cohorts/registration/new",
        data={
            "school_code": "P1",
            "entry_year": "2026",
            "rows": (io.BytesIO(sheet.encode()), "名单.csv"),
        },
    )
    assert resp.status_code == 422 and "131072" in resp.text


@pytest.mark.postgres
def test_the_error_page_stays_chinese_after_a_database_error(pg_app):
    build_world()
    db.session.commit()

    def broken():
        db.session.execute(db.text("SELECT 1/0"))

    pg_app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    pg_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = signed_in(pg_app, "uP1")
    resp = client.get("/broken-for-test")
    assert resp.status_code == 500
    assert "服务器内部错误" in resp.text and "Internal Server Error" not in resp.text
    assert "海陵实验小学" in resp.text or "uP1" in resp.text  # the page's own queries ran


def test_a_bad_field_name_is_refused_without_echoing_it(app, world):
    as_p3 = signed_in(app, "uP3")
    raw = '{"procedure": "transfer", "data": {"\\ud800": 1, "note\\u0000": 2}}'
    resp = as_p3.post("/api/v1/instances", data=raw, content_type="application/json")
    assert resp.status_code == 422 and "字段名" in resp.get_json()["error"]["message"]
    assert list(resp.get_json()["error"]["fields"]) == ["data"]
    resp = as_p3.get("/students", query_string={"a\x00": "1"})
    assert resp.status_code == 422 and "请求参数" in resp.text
