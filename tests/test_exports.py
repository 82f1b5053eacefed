"""Every list to Excel and CSV: what a registrar opens is the list she sees (her rows only,
Chinese headers, the header frozen, numbers kept as text), a formula never runs, and the
command line writes both layouts that `xueji import students` reads back."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from itertools import count

import pytest
from openpyxl import load_workbook

from forms.student_fields import NATIONAL_HEADERS, XUEJI_COLUMNS
from forms.validators import build_id_number
from webapp import exports
from webapp.extensions import db
from webapp.models import AuditLog, Student, StudentScope, utcnow
from webapp.sheets import INSTANCE_HEADERS, STUDENT_HEADERS, TASK_HEADERS
from workflows import engine

from .flows import actor_for
from .test_suspension import start as start_suspension
from .test_web_graduation import submit_cohort
from .world import PASSWORD, build_world

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_n = count(700)


def id_ending_in_x(household: str = "321202") -> str:
    while True:
        number = build_id_number(household, date(2016, 3, 1), next(_n), "M")
        if number.endswith("X"):
            return number


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).worksheets[0]


def rows_of(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, as Excel on Chinese Windows wants"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def pupils(world):
    """A P1 pupil with an ID number ending in X and a phone with a leading zero, a P2 pupil
    (same county) and a P4 pupil in another city."""
    mine = world.student("P1", name="王小明", phone="05231234567", class_number="2022101")
    mine.id_number = id_ending_in_x()
    mine.status_number = "G" + mine.id_number
    neighbour = world.student("P2", name="李小红")
    other = world.student("P4", name="外市学生")
    db.session.commit()
    return mine, neighbour, other


def test_the_student_list_exports_to_excel_with_the_callers_rows_only(login, pupils):
    mine, neighbour, other = pupils
    county = login("u321202")
    page = county.get("/students").data.decode()
    assert 'href="/students/export?format=xlsx"' in page
    assert "导出国家模板格式" in page

    resp = county.get("/students/export?format=xlsx")
    assert resp.status_code == 200 and resp.mimetype == XLSX
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    ws = sheet_of(resp.data)
    assert ws.freeze_panes == "A2"
    rows = rows_of(ws)
    assert rows[0] == list(STUDENT_HEADERS)
    names = [r[0] for r in rows[1:]]
    assert names == ["王小明", "李小红"]  # not the other city's pupil
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["身份证件号"] == mine.id_number and first["身份证件号"].endswith("X")
    assert first["联系电话"] == "05231234567"  # text: the leading zero stays
    assert first["学校名称"] == "海陵实验小学" and first["性别"] == mine.gender.replace(
        "M", "男"
    ).replace("F", "女")
    assert ws.cell(1, 6).value == "身份证件号" and ws.cell(2, 6).data_type == "s"
    assert ws.column_dimensions["F"].width >= 18  # wide enough for 18 digits
    assert ws.column_dimensions["F"].number_format == "@"  # what is typed there stays text
    assert ws["A1"].font.b


def test_the_search_filter_carries_into_the_export_and_csv_has_the_same_headers(login, pupils):
    school = login("uP1")
    resp = school.get("/students/export?format=csv&q=王小明")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = csv_rows(resp.data)
    assert rows[0] == list(STUDENT_HEADERS)
    assert [r[0] for r in rows[1:]] == ["王小明"]
    control = csv_rows(school.get("/students/export?format=csv").data)
    assert [r[0] for r in control[1:]] == ["王小明"]  # P1 sees only its own pupils


def test_the_national_layout_has_the_templates_63_headers_in_order(login, pupils):
    mine = pupils[0]
    mine.members = [{"name": "王父", "relation": "父亲", "phone": "05230001", "guardian": True}]
    mine.national_extra = {"政治面貌": "少先队员"}
    db.session.commit()
    ws = sheet_of(login("uP1").get("/students/export?format=national").data)
    rows = rows_of(ws)
    assert rows[0] == list(NATIONAL_HEADERS) and len(rows[0]) == 63
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["姓名"] == "王小明" and record["身份证件号"] == mine.id_number
    assert record["出生日期"] == mine.birth_date.strftime("%Y%m%d")
    assert record["班号"] == "2022101" and record["身份证件类型"] == "居民身份证"
    assert (record["成员1姓名"], record["成员1关系"], record["成员1联系电话"]) == (
        "王父",
        "父亲",
        "05230001",
    )
    assert record["成员1是否监护人"] == "是" and record["成员2姓名"] is None  # an empty cell
    assert record["政治面貌"] == "少先队员" and record["性别"] in ("男", "女")


def test_a_formula_looking_name_is_exported_inert(login, world):
    world.student("P1", name="=1+1")
    world.student("P1", name='=HYPERLINK("http://x.cn","点我")')
    world.student("P1", name="@SUM(A1)")
    school = login("uP1")
    ws = sheet_of(school.get("/students/export?format=xlsx").data)
    cells = [ws.cell(r, 1) for r in range(2, 5)]
    assert [c.value for c in cells] == ["=1+1", '=HYPERLINK("http://x.cn","点我")', "@SUM(A1)"]
    assert all(c.data_type == "s" for c in cells)  # strings, never formulas
    rows = csv_rows(school.get("/students/export?format=csv").data)
    assert [r[0] for r in rows[1:]] == ["'=1+1", '\'=HYPERLINK("http://x.cn","点我")', "'@SUM(A1)"]
    world.student("P1", name="王一")  # the control: an ordinary name is left as it is
    rows = csv_rows(school.get("/students/export?format=csv").data)
    assert rows[-1][0] == "王一"


def test_an_unknown_format_is_refused_naming_the_field(login, api, pupils):
    for user, url in (
        ("uP1", "/students/export"),
        ("uP1", "/"),
        ("uP1", "/instances"),
        ("u321202", "/overdue"),
        ("admin", "/admin/audit"),
    ):
        resp = login(user).get(f"{url}?format=pdf")
        assert resp.status_code == 400, url
        assert "导出格式（format）须为" in resp.data.decode(), url
        assert login(user).get(f"{url}?format=csv").status_code == 200, url  # the control
    caller = api("uP1")
    for url in ("/api/v1/students", "/api/v1/instances", "/api/v1/tasks"):
        resp = caller.get(f"{url}?format=bogus")
        assert resp.status_code == 400, url
        assert "format" in resp.get_json()["error"]["fields"]
        assert "导出格式" in resp.get_json()["error"]["message"]
        assert caller.get(f"{url}?format=csv").status_code == 200  # the control


def test_the_api_answers_the_whole_filtered_list_as_a_file(api, pupils):
    mine, neighbour, _ = pupils
    county = api("u321202")
    resp = county.get("/api/v1/students?format=xlsx&per_page=1")
    assert resp.mimetype == XLSX
    rows = rows_of(sheet_of(resp.data))
    assert [r[0] for r in rows[1:]] == ["王小明", "李小红"]  # every row, not one page
    national = rows_of(sheet_of(county.get("/api/v1/students?format=national").data))
    assert national[0] == list(NATIONAL_HEADERS) and len(national) == 3
    rows = csv_rows(county.get("/api/v1/students?format=csv&q=李小红").data)
    assert [r[0] for r in rows[1:]] == ["李小红"]
    assert county.get("/api/v1/students").get_json()["total"] == 2  # JSON as before


def _running_suspension(world, student):
    instance = start_suspension(world, student)
    db.session.commit()
    task = engine.open_tasks(instance)[0]
    return instance, task


def test_inbox_and_instances_export_in_both_formats_for_their_users_only(world, login, api, pupils):
    mine, _, other = pupils
    instance, task = _running_suspension(world, mine)
    _running_suspension(world, other)  # another city's: in neither file
    actor = actor_for(world, task)
    client = login(actor.username)
    assert "导出 Excel" in client.get("/").data.decode()
    rows = rows_of(sheet_of(client.get("/?format=xlsx").data))
    assert rows[0] == list(TASK_HEADERS)
    assert [(r[0], r[3]) for r in rows[1:]] == [(task.id, "王小明")]
    rows = csv_rows(api(actor.username).get("/api/v1/tasks?format=csv").data)
    assert [r[3] for r in rows[1:]] == ["王小明"] and rows[1][4] == mine.id_number

    county = login("u321202")
    rows = rows_of(sheet_of(county.get("/instances?format=xlsx&status=running").data))
    assert rows[0] == list(INSTANCE_HEADERS)
    assert [(r[0], r[2]) for r in rows[1:]] == [(instance.id, "王小明")]
    assert [
        r[0]
        for r in rows_of(sheet_of(county.get("/instances?format=xlsx&status=completed").data))[1:]
    ] == []
    rows = csv_rows(api("u321202").get("/api/v1/instances?format=csv&procedure=suspension").data)
    assert [r[0] for r in rows[1:]] == [str(instance.id)]


def test_overdue_steps_export_for_the_supervising_bureau(world, login, pupils):
    mine = pupils[0]
    instance, task = _running_suspension(world, mine)
    task.due_at = utcnow() - timedelta(days=3)
    db.session.commit()
    supervisor = "u321202" if task.org.level == "school" else "u3212"
    client = login(supervisor)
    assert "导出 CSV" in client.get("/overdue").data.decode()
    rows = csv_rows(client.get("/overdue?format=csv").data)
    assert rows[0][:3] == ["单位", "单位代码", "任务编号"]
    assert [(r[0], r[7], r[9]) for r in rows[1:]] == [(task.org.name, task.name, "3")]
    assert csv_rows(login("u321002").get("/overdue?format=csv").data)[1:] == []  # another county


def test_the_audit_log_exports_for_admins_only(login, pupils):
    login("uP1").get("/students/export?format=csv")  # audited as an export
    assert login("uP1").get("/admin/audit?format=xlsx").status_code == 403
    admin = login("admin")
    assert "审计日志" in admin.get("/admin/audit").data.decode()
    rows = rows_of(sheet_of(admin.get("/admin/audit?format=xlsx&action=export").data))
    assert rows[0] == ["时间", "操作人", "操作", "对象类型", "对象编号", "变更前", "变更后"]
    assert {r[2] for r in rows[1:]} == {"export"}
    assert any(r[1] == "uP1" and "学生学籍" in (r[6] or "") for r in rows[1:])


def test_the_roster_exports_as_csv_too(world, login):
    instance, _ = submit_cohort(world, login, n_ok=2, n_core=1)
    rows = csv_rows(login("u321202").get(f"/instances/{instance.id}/roster.csv").data)
    assert rows[0][:3] == ["班级", "姓名", "身份证号"] and len(rows) > 1


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
@pytest.mark.parametrize("layout", ["xueji", "national"])
def test_cli_export_writes_both_layouts_and_both_extensions(runner, pupils, tmp_path, ext, layout):
    mine = pupils[0]
    path = tmp_path / f"students.{ext}"
    result = runner.invoke(
        args=["export", "students", str(path), "--school", "P1", "--layout", layout]
    )
    assert result.exit_code == 0, result.output
    assert "已导出 1 名学生" in result.output
    rows = rows_of(sheet_of(path.read_bytes())) if ext == "xlsx" else csv_rows(path.read_bytes())
    headers = list(XUEJI_COLUMNS if layout == "xueji" else NATIONAL_HEADERS)
    assert [str(h) for h in rows[0]] == headers
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["id_number" if layout == "xueji" else "身份证件号"] == mine.id_number


def test_cli_export_refuses_an_unknown_school_or_extension_and_writes_nothing(
    runner, pupils, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    path = out / "students.xlsx"
    result = runner.invoke(args=["export", "students", str(path), "--school", "NOPE"])
    assert result.exit_code != 0 and "学校代码 NOPE 不存在" in result.output
    assert list(out.iterdir()) == []
    result = runner.invoke(args=["export", "students", str(out / "students.pdf")])
    assert result.exit_code != 0 and ".xlsx 或 .csv" in result.output
    assert list(out.iterdir()) == []
    everyone = runner.invoke(args=["export", "students", str(path)])  # the control
    assert everyone.exit_code == 0 and "已导出 3 名学生" in everyone.output


# -- export, then import: the same records (the new columns need the import branch) ----------

COMPARED = ("id_number", "name", "gender", "birth_date", "grade", "class_name", "entry_year",
            "household_code", "guardian_name", "guardian_phone")  # fmt: skip


def _forget(students) -> list[dict]:
    """The records as they were, then gone (so the import may create them again)."""
    kept = [{k: getattr(s, k) for k in COMPARED} | {"school": s.school.code} for s in students]
    ids = [s.id for s in students]
    StudentScope.query.filter(StudentScope.student_id.in_(ids)).delete()
    Student.query.filter(Student.id.in_(ids)).delete()
    db.session.commit()
    return kept


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
def test_xueji_layout_round_trips_through_import(runner, world, tmp_path, ext):
    pupils = [
        world.student("P1", guardian_name="王父", guardian_phone="13900000001") for _ in range(3)
    ]
    path = tmp_path / f"p1.{ext}"
    assert runner.invoke(args=["export", "students", str(path), "--school", "P1"]).exit_code == 0
    before = _forget(pupils)
    result = runner.invoke(args=["import", "students", str(path)])
    assert result.exit_code == 0, result.output
    after = Student.query.filter(Student.id_number.in_([b["id_number"] for b in before]))
    got = sorted(
        ({k: getattr(s, k) for k in COMPARED} | {"school": s.school.code} for s in after),
        key=lambda r: r["id_number"],
    )
    assert got == sorted(before, key=lambda r: r["id_number"])
    assert AuditLog.query.filter_by(action="export").count() == 1


NATIONAL_KEPT = ("ethnicity", "native_place", "birthplace_code", "nationality", "id_type",
                 "health", "household_type", "class_number", "entry_month", "admission_mode",
                 "study_mode", "address_current", "phone")  # fmt: skip


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
def test_national_layout_round_trips_through_import(runner, world, tmp_path, ext):
    world.orgs["P1"].identifier = "2132000001"
    pupils = [
        world.student(
            "P1",
            grade=4,
            class_name="小学2023级(01)班",
            class_number="2023101",
            entry_year=2023,
            entry_month=9,
            ethnicity="回族",
            native_place="江苏泰州",
            birthplace_code="321202000000",
            household_code="321202001001",
            nationality="中国",
            id_type="居民身份证",
            overseas="否",
            health="健康或良好",
            household_type="居民户口",
            admission_mode="就近入学",
            study_mode="走读",
            address_current="泰州市海陵区某路 1 号",
            phone="05238610001",
            members=[{"name": "王父", "relation": "父亲", "guardian": True}],
            national_extra={"政治面貌": "少先队员"},
        )
        for _ in range(2)
    ]
    path = tmp_path / f"p1.{ext}"
    args = ["export", "students", str(path), "--school", "P1", "--layout", "national"]
    assert runner.invoke(args=args).exit_code == 0
    keys = COMPARED[:-2] + NATIONAL_KEPT
    before = {s.id_number: {k: getattr(s, k) for k in keys} for s in pupils}
    extras = {s.id_number: (s.members[0]["name"], s.national_extra) for s in pupils}
    _forget(pupils)
    result = runner.invoke(args=["import", "students", str(path)])
    assert result.exit_code == 0, result.output
    after = Student.query.filter(Student.id_number.in_(before)).all()
    assert {s.id_number: {k: getattr(s, k) for k in keys} for s in after} == before
    assert {s.id_number: (s.members[0]["name"], s.national_extra) for s in after} == extras


@pytest.mark.postgres
def test_exports_stream_from_postgresql_through_the_scope_rows(pg_app, monkeypatch):
    """On PostgreSQL the rows come through a server-side cursor in chunks: more rows than a
    chunk, the instances with their hidden schools read per chunk, the file complete."""
    monkeypatch.setattr(exports, "CHUNK", 2)
    world = build_world()
    db.session.commit()
    for _ in range(3):
        world.student("P1")
    outsider = world.student("P4")
    started = start_suspension(world, world.student("P2"))
    db.session.commit()
    client = pg_app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "u321202", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    rows = rows_of(sheet_of(client.get("/api/v1/students?format=xlsx", headers=headers).data))
    assert len(rows) == 1 + 4 and outsider.id_number not in {r[5] for r in rows}
    rows = csv_rows(client.get("/api/v1/instances?format=csv", headers=headers).data)
    assert [r[0] for r in rows[1:]] == [str(started.id)]
