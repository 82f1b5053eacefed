"""Imports in the browser and through the API: a preview that writes nothing, 确认导入 that
writes all in one go, the error-marked copy, one's own school only, one's own jobs only,
progress to done, inline without Redis; and the blank templates with their drop-downs."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from forms.student_fields import NATIONAL_HEADERS, NATIONAL_REQUIRED, XUEJI_BASE, XUEJI_COLUMNS
from forms.validators import build_id_number
from webapp.models import AuditLog, ImportJob, Student
from webapp.models.codes import ETHNICITIES

BORN = date(2016, 3, 1)


def student_row(n: int, school: str = "P1", **over) -> list[str]:
    row = {
        "id_number": build_id_number("321202", BORN, 9000 + n, "M"),
        "name": f"导入学生{n}",
        "gender": "M",
        "birth_date": BORN.isoformat(),
        "school_code": school,
        "grade": "4",
        "class_name": "2班",
        "entry_year": "2023",
        "household_code": "321202",
        "guardian_name": "王建国",
        "guardian_phone": "13800000000",
    }
    row.update(over)
    return [row[c] for c in XUEJI_BASE]


def xlsx(rows: list[list[str]], header=XUEJI_BASE) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(XUEJI_BASE)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def upload(api_user, data: bytes, name: str = "students.xlsx", kind: str = "students"):
    return api_user.post("/api/v1/imports", data={"kind": kind, "file": (io.BytesIO(data), name)})


def import_audits() -> int:
    return AuditLog.query.filter(AuditLog.action.like("import.%")).count()


# ---- the API ---------------------------------------------------------------------------


def test_preview_writes_nothing_and_confirm_writes_all(world, api):
    school = api("uP1")
    before = Student.query.count()
    resp = upload(school, xlsx([student_row(1), student_row(2), student_row(3)]))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "checked" and body["rows"] == 3 and body["problems"] == []
    assert Student.query.count() == before and import_audits() == 0

    resp = school.post(f"/api/v1/imports/{body['id']}/confirm")
    assert resp.status_code == 202 and resp.get_json()["id"] == body["id"]
    job = school.get(f"/api/v1/imports/{body['id']}").get_json()
    assert job["status"] == "done" and job["progress"] == 1.0 and job["written"] == 3
    assert Student.query.count() == before + 3
    entry = AuditLog.query.filter_by(action="import.students").one()
    assert entry.user_id == world.users["P1"].id
    # Confirmed once: a second confirm is refused and writes nothing more.
    again = school.post(f"/api/v1/imports/{body['id']}/confirm")
    assert again.status_code == 409 and "已确认过" in again.get_json()["error"]["message"]
    assert Student.query.count() == before + 3


def test_a_bad_row_cannot_be_confirmed_and_the_copy_marks_that_row(world, api, client, login):
    school = api("uP1")
    before = Student.query.count()
    rows = [student_row(1), student_row(2, gender="X"), student_row(3)]
    body = upload(school, xlsx(rows)).get_json()
    assert body["problems"] == [
        {"row": 3, "column": "gender", "message": "应为 M、F 之一，实为“X”。"}
    ]
    resp = school.post(f"/api/v1/imports/{body['id']}/confirm")
    assert resp.status_code == 409 and "1 处问题" in resp.get_json()["error"]["message"]
    assert Student.query.count() == before and import_audits() == 0

    login("uP1")
    copy = client.get(f"/imports/{body['id']}/errors.xlsx")
    assert copy.status_code == 200
    sheet = load_workbook(io.BytesIO(copy.data)).active
    header = [c.value for c in sheet[1]]
    assert header == [*XUEJI_BASE, "错误说明"]
    notes = {r: sheet.cell(row=r, column=len(header)).value for r in range(2, 5)}
    assert notes == {2: None, 3: "gender：应为 M、F 之一，实为“X”。", 4: None}
    assert [sheet.cell(row=r, column=2).value for r in range(2, 5)] == [r[1] for r in rows]


def test_the_error_copy_of_a_csv_keeps_its_rows_as_text(world, api, client, login):
    school = api("uP1")
    rows = [student_row(1), student_row(2, grade="13")]
    body = upload(school, csv_bytes(rows), "名单.csv").get_json()
    assert [p["row"] for p in body["problems"]] == [3]
    login("uP1")
    sheet = load_workbook(io.BytesIO(client.get(f"/imports/{body['id']}/errors.xlsx").data)).active
    assert sheet.cell(row=2, column=1).value == rows[0][0]  # the ID number as text
    assert "grade" in sheet.cell(row=3, column=len(XUEJI_BASE) + 1).value


def test_a_school_imports_its_own_students_only(world, api):
    school = api("uP1")
    before = Student.query.count()
    body = upload(school, xlsx([student_row(1), student_row(2, school="P2")])).get_json()
    assert body["problems"] == [
        {
            "row": 3,
            "column": "school_code",
            "message": "学校代码“P2”不是本校的代码：学校只能导入本校的学生。",
        }
    ]
    assert school.post(f"/api/v1/imports/{body['id']}/confirm").status_code == 409
    # The control: its own school's rows alone are accepted and written.
    body = upload(school, xlsx([student_row(1)])).get_json()
    assert body["problems"] == []
    assert school.post(f"/api/v1/imports/{body['id']}/confirm").status_code == 202
    assert Student.query.count() == before + 1


def test_a_county_imports_its_schools_students_not_anothers(world, api):
    county = api("u321202")
    body = upload(
        county, xlsx([student_row(1, school="P2"), student_row(2, school="P3")])
    ).get_json()
    assert body["problems"] == [
        {
            "row": 3,
            "column": "school_code",
            "message": "学校代码“P3”不是本单位所辖学校的代码：只能导入所辖学校的学生。",
        }
    ]
    body = upload(
        county, xlsx([student_row(1, school="P2"), student_row(2, school="P1")])
    ).get_json()
    assert body["problems"] == []
    assert county.post(f"/api/v1/imports/{body['id']}/confirm").status_code == 202
    assert {s.school.code for s in Student.query.filter(Student.name.like("导入学生%"))} == {
        "P1",
        "P2",
    }


def test_only_an_admin_imports_organisations(world, api):
    orgs = "code,name,level,parent_code,stage,ownership,star\nP9,海陵新小学,school,321202,primary,public,\n"
    refused = upload(api("u321202"), orgs.encode(), "orgs.csv", kind="orgs")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["fields"]["kind"] == [
        "导入类型应为 students（学生名单），实为“orgs”。"
    ]
    admin = api("admin")
    body = upload(admin, orgs.encode(), "orgs.csv", kind="orgs").get_json()
    assert body["problems"] == [] and body["rows"] == 1
    assert admin.post(f"/api/v1/imports/{body['id']}/confirm").status_code == 202
    assert admin.get(f"/api/v1/imports/{body['id']}").get_json()["written"] == 1


def test_bad_requests_name_the_field(world, api):
    school = api("uP1")
    no_file = school.post("/api/v1/imports", data={"kind": "students"})
    assert no_file.status_code == 400 and "file" in no_file.get_json()["error"]["fields"]
    no_kind = school.post("/api/v1/imports", data={"file": (io.BytesIO(b"x"), "a.csv")})
    assert no_kind.status_code == 400 and "kind" in no_kind.get_json()["error"]["fields"]
    wrong_type = upload(school, b"%PDF-1.4", "scan.pdf")
    assert wrong_type.status_code == 400
    assert wrong_type.get_json()["error"]["message"] == "“scan.pdf”不是 .xlsx、.xls 或 .csv 文件。"
    broken = upload(school, b"not a workbook", "broken.xlsx")
    assert broken.status_code == 201
    assert broken.get_json()["problems"][0]["row"] is None


def test_another_users_import_is_not_found(world, api):
    mine = upload(api("uP1"), xlsx([student_row(1)])).get_json()
    other = api("uP1b")
    assert other.get(f"/api/v1/imports/{mine['id']}").status_code == 404
    assert other.post(f"/api/v1/imports/{mine['id']}/confirm").status_code == 404
    assert api("uP1").get(f"/api/v1/imports/{mine['id']}").status_code == 200


def test_not_kept_columns_are_named(world, api):
    header = [*XUEJI_BASE, "备注"]
    body = upload(api("uP1"), xlsx([student_row(1) + ["转入"]], header=header)).get_json()
    assert body["ignored_columns"] == ["备注"] and body["problems"] == []


# ---- the pages -------------------------------------------------------------------------


def test_the_pages_preview_confirm_and_show_done(world, client, login):
    login("uP1")
    page = client.get("/imports")
    assert "下载国家模板" in page.text and "下载本平台模板" in page.text
    resp = client.post(
        "/imports",
        data={
            "kind": "students",
            "file": (io.BytesIO(xlsx([student_row(1), student_row(2, name="")])), "a.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    preview = client.get(resp.location)
    assert "第 3 行" in preview.text and "name" in preview.text and "不能为空" in preview.text
    assert "下载错误标注文件" in preview.text and "确认导入" not in preview.text

    before = Student.query.count()
    resp = client.post(
        "/imports",
        data={
            "kind": "students",
            "file": (io.BytesIO(xlsx([student_row(1), student_row(2)])), "b.xlsx"),
        },
        content_type="multipart/form-data",
    )
    preview = client.get(resp.location)
    assert "将写入 2 行" in preview.text and "确认导入" in preview.text
    assert Student.query.count() == before
    job_id = int(resp.location.rsplit("/", 1)[1])
    done = client.post(f"/imports/{job_id}/confirm", follow_redirects=True)
    assert "导入完成：写入 2 行" in done.text
    assert client.get(f"/imports/{job_id}/progress").get_json()["status"] == "done"
    assert Student.query.count() == before + 2


def test_an_upload_without_a_file_is_refused_in_chinese(world, client, login):
    login("uP1")
    resp = client.post("/imports", data={"kind": "students"}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "请选择要导入的文件" in resp.text
    assert ImportJob.query.count() == 0


def test_the_pages_of_another_users_import_are_not_found(world, client, login, api):
    mine = upload(api("uP1"), xlsx([student_row(1)])).get_json()["id"]
    login("uP1b")
    for url in (f"/imports/{mine}", f"/imports/{mine}/progress", f"/imports/{mine}/errors.xlsx"):
        assert client.get(url).status_code == 404
    assert client.post(f"/imports/{mine}/confirm").status_code == 404
    login("uP1")
    assert client.get(f"/imports/{mine}").status_code == 200


# ---- the templates ---------------------------------------------------------------------


def _validations(sheet) -> dict[str, str]:
    """Column letter → the drop-down's list formula."""
    out = {}
    for check in sheet.data_validations.dataValidation:
        for cells in check.sqref.ranges:
            out[cells.coord.split(":")[0].rstrip("0123456789")] = check.formula1
    return out


@pytest.mark.parametrize("layout", ["national", "xueji"])
def test_the_templates_have_the_headers_and_drop_downs(world, client, login, layout):
    login("uP1")
    resp = client.get(f"/imports/templates/{layout}.xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    sheet, codes = book.worksheets[0], book["代码表"]
    header = [c.value for c in sheet[1]]
    assert header == list(NATIONAL_HEADERS if layout == "national" else XUEJI_COLUMNS)
    required = NATIONAL_REQUIRED if layout == "national" else ("id_number", "name", "school_code")
    for cell in sheet[1]:
        if cell.value in required:
            assert cell.font.color.rgb == "FFFF0000", cell.value
    optional = sheet[1][header.index("籍贯" if layout == "national" else "class_name")]
    assert optional.font.color is None or optional.font.color.rgb != "FFFF0000"
    by_letter = _validations(sheet)
    names = {
        header[sheet[f"{letter}1"].column - 1]: formula for letter, formula in by_letter.items()
    }
    coded = [
        "性别",
        "民族",
        "身份证件类型",
        "港澳台侨外",
        "健康状况",
        "户口性质",
        "入学方式",
        "就读方式",
        "成员1关系",
        "成员1是否监护人",
    ]
    if layout == "xueji":
        coded = [
            "gender",
            "ethnicity",
            "id_type",
            "overseas",
            "health",
            "household_type",
            "admission_mode",
            "study_mode",
            "member1_relation",
        ]
    assert set(coded) <= set(names)
    ethnic = names["民族" if layout == "national" else "ethnicity"]
    assert ethnic.startswith("'代码表'!$")
    column = ethnic.split("!$")[1].split("$")[0]
    listed = [codes[f"{column}{r}"].value for r in range(2, 2 + len(ETHNICITIES))]
    assert listed == list(ETHNICITIES) and len(listed) >= 56
    beside = chr(ord(column) + 1)
    assert codes[f"{beside}1"].value == "民族代码" and codes[f"{beside}2"].value == "01"


def test_unknown_template_is_not_found(world, client, login):
    login("uP1")
    assert client.get("/imports/templates/other.xlsx").status_code == 404


def test_a_file_that_went_stale_fails_and_writes_nothing(world, api):
    """Checked twice before either is confirmed: the second write finds the IDs taken."""
    school = api("uP1")
    data = xlsx([student_row(1), student_row(2)])
    first, second = (upload(school, data).get_json() for _ in range(2))
    assert first["problems"] == second["problems"] == []
    assert school.post(f"/api/v1/imports/{first['id']}/confirm").status_code == 202
    before = Student.query.count()
    assert school.post(f"/api/v1/imports/{second['id']}/confirm").status_code == 202
    job = school.get(f"/api/v1/imports/{second['id']}").get_json()
    assert job["status"] == "failed" and job["written"] == 0
    assert [p["row"] for p in job["problems"]] == [2, 3]
    assert all("已持有学籍" in p["message"] for p in job["problems"])
    assert Student.query.count() == before
    assert AuditLog.query.filter_by(action="import.students").count() == 1
