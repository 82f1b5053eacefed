"""The national student template (学生信息导入模板) in: every field kept on the record, its
value formats, its files (.xlsx, Excel 97 .xls, GBK and UTF-8 BOM CSV), errors by sheet row
and by the header as the file writes it, all or nothing."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import xlwt
from openpyxl import Workbook

from forms.spreadsheets import RowError
from forms.student_fields import NATIONAL_HEADERS
from forms.validators import build_id_number
from handlers.registration import check_list
from webapp.extensions import db
from webapp.imports import check_import, import_orgs, run_import
from webapp.models import AuditLog, Instance, Organization, Student

BIRTH = date(2016, 3, 1)
IDENTIFIER = "3132120201"  # P1's 学校标识码


def national_row(n: int, **over: str) -> dict[str, str]:
    row = dict.fromkeys(NATIONAL_HEADERS, "")
    row.update({
        "学校标识码": IDENTIFIER, "姓名": f"国标学生{n}", "性别": "男",
        "出生日期": BIRTH.strftime("%Y%m%d"), "出生地行政区划代码": "321202001001",
        "籍贯": "江苏泰州", "民族": "回族", "国籍/地区": "中国", "身份证件类型": "居民身份证",
        "港澳台侨外": "否", "健康状况": "健康或良好",
        "身份证件号": build_id_number("321202", BIRTH, n, "M"),
        "户口所在地行政区划": "321202001002", "户口性质": "非农业户口", "年级": "四年级",
        "班号": "2022102", "入学年月": "202209", "入学方式": "就近入学", "就读方式": "走读",
        "现住址": "泰州市海陵区凤凰路 1 号", "通信地址": "泰州市海陵区邮政信箱 8 号",
        "家庭住址": "泰州市海陵区凤凰路 1 号", "联系电话": "05231234567",
        "成员1姓名": "马父", "成员1关系": "父亲", "成员1身份证件类型": "居民身份证",
        "成员1身份证件号": build_id_number("321202", date(1998, 1, 1), n, "M"),
        "成员1民族": "回族", "成员1工作单位": "泰州制药厂", "成员1联系电话": "13900000001",
        "成员1是否监护人": "否", "成员1户口所在地行政区划": "321202001002",
        "成员1现住址": "泰州市海陵区凤凰路 1 号",
        "成员2姓名": "马母", "成员2关系": "母亲", "成员2身份证件类型": "护照",
        "成员2身份证件号": "e1234567", "成员2民族": "汉族", "成员2联系电话": "13900000002",
        "成员2是否监护人": "是",
        "政治面貌": "少先队员", "是否留守儿童": "否", "学籍辅号": "A-7",
    })  # fmt: skip
    row.update(over)
    return row


def xlsx_bytes(rows: list[dict], headers=NATIONAL_HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([f"{h}*" if h == "姓名" else h for h in headers])  # a red column's mark
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls_bytes(rows: list[dict]) -> bytes:
    book = xlwt.Workbook()
    sheet = book.add_sheet("学生信息")
    for col, header in enumerate(NATIONAL_HEADERS):
        sheet.write(0, col, header)
    for r, row in enumerate(rows, start=1):
        for col, header in enumerate(NATIONAL_HEADERS):
            value = row.get(header, "")
            if header == "出生日期":  # a date cell, as Excel keeps one
                sheet.write(r, col, BIRTH, xlwt.easyxf(num_format_str="YYYY-MM-DD"))
            elif header == "入学年月":  # a number cell: 202209.0 in the file
                sheet.write(r, col, int(value))
            else:
                sheet.write(r, col, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(NATIONAL_HEADERS)
    writer.writerows([row.get(h, "") for h in NATIONAL_HEADERS] for row in rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def school(world):
    p1 = world.orgs["P1"]
    p1.identifier = IDENTIFIER
    db.session.commit()
    return p1


def test_the_template_has_63_columns():
    assert len(NATIONAL_HEADERS) == 63


def test_xlsx_keeps_every_template_field_on_the_record(runner, school, tmp_path, api, login):
    path = tmp_path / "学生信息导入模板.xlsx"
    path.write_bytes(xlsx_bytes([national_row(1), national_row(2, 性别="女", 姓名="国标学生乙",
        身份证件号=build_id_number("321202", BIRTH, 2, "F"))]))  # fmt: skip

    result = runner.invoke(args=["import", "students", str(path)])

    assert result.exit_code == 0, result.stderr
    assert "已导入 2 名学生" in result.output
    assert "未导入的列" not in result.stderr
    student = Student.query.filter_by(name="国标学生1").one()
    assert student.school_id == school.id and student.status == "enrolled"
    assert student.status_number == "G" + student.id_number
    assert (student.gender, student.birth_date, student.grade) == ("M", BIRTH, 4)
    assert (student.entry_year, student.entry_month) == (2022, 9)
    assert (student.class_number, student.class_name) == ("2022102", "小学2022级(02)班")
    assert student.ethnicity == "回族" and student.native_place == "江苏泰州"
    assert student.birthplace_code == "321202001001"
    assert student.household_code == "321202001002"  # the 12 digits are kept
    assert (student.nationality, student.id_type, student.overseas) == ("中国", "居民身份证", "否")
    assert (student.health, student.household_type) == ("健康或良好", "非农业户口")
    assert (student.admission_mode, student.study_mode) == ("就近入学", "走读")
    assert student.address_current == "泰州市海陵区凤凰路 1 号"
    assert student.address_mail == "泰州市海陵区邮政信箱 8 号"
    assert student.phone == "05231234567"
    father, mother = student.members
    assert father == {
        "name": "马父", "relation": "父亲", "id_type": "居民身份证",
        "id_number": build_id_number("321202", date(1998, 1, 1), 1, "M"), "ethnicity": "回族",
        "employer": "泰州制药厂", "phone": "13900000001", "guardian": False,
        "household_code": "321202001002", "address": "泰州市海陵区凤凰路 1 号",
    }  # fmt: skip
    assert mother["id_type"] == "护照" and mother["id_number"] == "E1234567"
    assert mother["guardian"] is True
    # the guardian is the member marked 是否监护人=是
    assert (student.guardian_name, student.guardian_phone) == ("马母", "13900000002")
    assert student.national_extra == {
        "政治面貌": "少先队员",
        "是否留守儿童": "否",
        "学籍辅号": "A-7",
    }
    # …and shows them: the API's record and the record page.
    body = api("uP1").get(f"/api/v1/students/{student.id}").get_json()
    assert body["ethnicity"] == "回族" and body["household_code"] == "321202001002"
    assert body["addresses"]["mail"] == "泰州市海陵区邮政信箱 8 号"
    assert (
        body["members"][1]["id_type"] == "护照" and body["members"][0]["employer"] == "泰州制药厂"
    )
    assert body["national_extra"]["学籍辅号"] == "A-7"
    page = login("uP1").get(f"/students/{student.id}").get_data(as_text=True)
    for shown in ("回族", "江苏泰州", "321202001001", "非农业户口", "2022102", "泰州制药厂", "A-7"):
        assert shown in page, shown


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("学生.xls", xls_bytes),
        ("学生.csv", lambda rows: csv_bytes(rows, "gbk")),
        ("学生.csv", lambda rows: csv_bytes(rows, "gb18030")),
        ("学生.csv", lambda rows: csv_bytes(rows, "utf-8-sig")),
        ("学生.csv", lambda rows: csv_bytes(rows, "utf-8")),
    ],
)
def test_xls_and_csv_in_gbk_or_utf8_import_alike(app, school, name, build):
    result = run_import("students", build([national_row(3), national_row(4)]), name)

    assert result.ok, result.errors
    assert result.created == 2 and result.rows == 2
    db.session.commit()
    student = Student.query.filter_by(name="国标学生3").one()
    assert student.birth_date == BIRTH and (student.entry_year, student.entry_month) == (2022, 9)
    assert student.ethnicity == "回族" and student.members[1]["guardian"] is True


BAD_CODES = [
    ("性别", "M"),
    ("民族", "汉"),
    ("身份证件类型", "身份证"),
    ("港澳台侨外", "港澳"),
    ("健康状况", "良好"),
    ("户口性质", "城镇"),
    ("入学方式", "择校"),
    ("就读方式", "寄宿"),
    ("成员1关系", "爸爸"),
    ("成员1是否监护人", "Y"),
    ("成员1民族", "回"),
    ("成员2身份证件类型", "驾照"),
]


@pytest.mark.parametrize(("header", "value"), BAD_CODES)
def test_a_bad_value_in_each_coded_column_is_named_by_row_and_header(app, school, header, value):
    good = xlsx_bytes([national_row(5), national_row(6)])
    assert check_import("students", good, "学生.xlsx").ok  # the accepted control

    result = check_import(
        "students", xlsx_bytes([national_row(5), national_row(6, **{header: value})]), "学生.xlsx"
    )

    assert [(e.row, e.field) for e in result.errors] == [(3, header)], result.errors
    assert f"实为“{value}”" in result.errors[0].message
    assert Student.query.count() == 0  # checking writes nothing


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("班号", "202210", "应为 7 位数字"),
        ("班号", "2022202", "学段编号 2 与年级“四年级”不符"),
        ("入学年月", "2022-09", "应为 6 位数字"),
        ("入学年月", "202213", "应为 6 位数字"),
        ("年级", "四年", "应为 一年级…六年级"),
        ("出生日期", "2016.03.01", "应为 8 位数字"),
        ("出生地行政区划代码", "321202", "应为 12 位行政区划代码"),
        ("民族", "", "不能为空"),
        ("身份证件号", "", "不能为空"),
        ("学校标识码", "3132129999", "学校标识码或学校代码“3132129999”不存在"),
    ],
)
def test_format_errors_name_the_header(app, school, header, value, message):
    result = check_import("students", xlsx_bytes([national_row(7, **{header: value})]), "学生.xlsx")

    assert [(e.row, e.field) for e in result.errors] == [(2, header)], result.errors
    assert message in result.errors[0].message


def test_one_bad_row_writes_nothing(runner, school, tmp_path):
    rows = [national_row(n) for n in range(10, 15)] + [national_row(15, 户口性质="城镇")]
    path = tmp_path / "学生.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    audits = AuditLog.query.count()

    result = runner.invoke(args=["import", "students", str(path)])

    assert result.exit_code != 0
    assert "第 7 行，字段 户口性质：" in result.stderr and "未写入任何数据" in result.stderr
    assert Student.query.count() == 0 and AuditLog.query.count() == audits
    rows[-1]["户口性质"] = "农业户口"  # fixed, the same file imports
    path.write_bytes(xlsx_bytes(rows))
    assert runner.invoke(args=["import", "students", str(path)]).exit_code == 0
    assert Student.query.count() == 6 and AuditLog.query.count() == audits + 1


def test_a_bad_row_after_written_chunks_rolls_them_back(app, school, monkeypatch):
    monkeypatch.setattr("webapp.imports.CHUNK", 2)
    rows = [national_row(n) for n in range(20, 25)] + [national_row(25, 就读方式="寄宿")]

    result = run_import("students", xlsx_bytes(rows), "学生.xlsx")

    assert [(e.row, e.field) for e in result.errors] == [(7, "就读方式")]
    assert result.created == 0 and Student.query.count() == 0
    result = run_import("students", xlsx_bytes(rows[:-1]), "学生.xlsx")  # the control
    assert result.ok and result.created == 5 and Student.query.count() == 5


def test_a_passport_is_kept_without_gb11643_and_numbered_l(app, school):
    rows = [
        national_row(30, 身份证件类型="护照", 身份证件号="ea1234567", 国籍="加拿大", 港澳台侨外="外籍人士"),
        national_row(31, 身份证件类型="港澳台居民居住证", 身份证件号="830000201603010011"),
        national_row(32),
    ]  # fmt: skip

    result = run_import("students", xlsx_bytes(rows), "学生.xlsx")

    assert result.ok, result.errors
    numbers = {s.name: (s.id_number, s.id_type, s.status_number) for s in Student.query}
    assert numbers["国标学生30"] == ("EA1234567", "护照", "L201603010001")
    assert numbers["国标学生31"][2] == "L201603010002"
    assert numbers["国标学生32"][2] == "G" + numbers["国标学生32"][0]
    # a resident ID still passes GB 11643
    bad = national_row(33, 身份证件号=build_id_number("321202", BIRTH, 33, "M")[:-1] + "0")
    result = check_import("students", xlsx_bytes([bad]), "学生.xlsx")
    assert [(e.row, e.field) for e in result.errors] == [(2, "身份证件号")]
    passport = national_row(34, 身份证件类型="护照", 身份证件号="EA1234567")
    result = check_import("students", xlsx_bytes([passport]), "学生.xlsx")
    assert "一人只能有一个学籍" in result.errors[0].message  # one document, one status


def test_columns_not_kept_are_named_and_required_ones_missing(runner, school, tmp_path):
    headers = (*NATIONAL_HEADERS, "备注")
    path = tmp_path / "学生.xlsx"
    path.write_bytes(xlsx_bytes([national_row(40, 备注="转入")], headers))
    result = runner.invoke(args=["import", "students", str(path)])
    assert result.exit_code == 0 and "未导入的列：备注" in result.stderr

    without = [h for h in NATIONAL_HEADERS if h not in ("民族", "户口性质")]
    result = check_import("students", xlsx_bytes([national_row(41)], without), "学生.xlsx")
    assert result.errors == [
        RowError(1, "民族", "缺少此列。"),
        RowError(1, "户口性质", "缺少此列。"),
    ]


def test_the_school_code_stands_in_for_a_missing_identifier(app, world):
    result = run_import("students", xlsx_bytes([national_row(50, 学校标识码="P1")]), "学生.xlsx")
    assert result.ok and Student.query.one().school.code == "P1"


def test_org_import_takes_the_identifier_column(app, world):
    rows = "code,name,level,parent_code,stage,ownership,identifier\n"
    good = rows + "P1,海陵实验小学,school,321202,primary,public,3132120201\n"
    assert import_orgs(good.encode(), "orgs.csv").ok
    assert Organization.query.filter_by(code="P1").one().identifier == "3132120201"

    bad = rows + "P2,海陵第二小学,school,321202,primary,public,313212020\n"
    bad += "P3,高港实验小学,school,321203,primary,public,3132120201\n"
    result = import_orgs(bad.encode(), "orgs.csv")
    assert [(e.row, e.field) for e in result.errors] == [(2, "identifier"), (3, "identifier")]
    assert "应为 10 位数字" in result.errors[0].message
    assert "已属于机构“P1”" in result.errors[1].message


def test_the_xueji_layout_takes_the_new_keys(app, world):
    header = "id_number,name,gender,birth_date,school_code,grade,entry_year,ethnicity,id_type\n"
    number = build_id_number("321202", BIRTH, 60, "M")
    good = header + f"{number},甲,M,2016-03-01,P1,4,2022,回族,居民身份证\n"
    result = run_import("students", good.encode(), "s.csv")
    assert result.ok and Student.query.one().ethnicity == "回族"
    bad = header + f"{build_id_number('321202', BIRTH, 61, 'M')},乙,M,2016-03-01,P1,4,2022,回,\n"
    result = check_import("students", bad.encode(), "s.csv")
    assert [(e.row, e.field) for e in result.errors] == [(2, "ethnicity")]


def test_registration_reads_the_national_layout_with_chinese_headers(app, world):
    birth = date(2020, 3, 1)
    p1 = world.orgs["P1"]

    def admitted(n: int, **over: str) -> dict[str, str]:
        fields = {
            "出生日期": "20200301", "年级": "一年级", "班号": "2026101", "入学年月": "202609",
            "身份证件号": build_id_number("321202", birth, n, "M"), "学校标识码": "",
        }  # fmt: skip
        return national_row(n, **(fields | over))

    students, errors = check_list([admitted(70), admitted(71)], p1, 2026)
    assert errors == [] and [s["school"] for s in students] == [p1, p1]
    assert students[0]["ethnicity"] == "回族" and students[0]["class_name"] == "小学2026级(01)班"

    students, errors = check_list(
        [admitted(72), admitted(73, 年级="二年级", 班号="2026101")], p1, 2026
    )
    fields = {(e.row, e.field) for e in errors}
    assert (2, "年级") in fields and all(f.isascii() is False for _, f in fields)


def test_the_registration_upload_numbers_rows_as_the_sheet_and_names_headers(world, login):
    """新生注册 in the browser: the same messages as the command line — the sheet's row
    (header = row 1) and the column as the file writes it."""
    p1 = world.orgs["P1"]
    p1.identifier = IDENTIFIER
    db.session.commit()
    birth = date(2019, 3, 1)

    def admitted(n: int, **over: str) -> dict[str, str]:
        fields = {
            "出生日期": "20190301", "年级": "一年级", "班号": "2025101", "入学年月": "202509",
            "身份证件号": build_id_number("321202", birth, n, "M"),
        }  # fmt: skip
        return national_row(n, **(fields | over))

    rows = [admitted(81), admitted(82, 民族="汉"), admitted(83)]
    resp = login("uP1").post(
        "/cohorts/registration/new",
        data={"entry_year": "2025", "rows": (io.BytesIO(xlsx_bytes(rows)), "新生.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = resp.get_data(as_text=True)
    # checked before anything is created: the form comes back with the sheet's own words
    assert (
        resp.status_code == 422 and Instance.query.filter_by(procedure="registration").count() == 0
    )
    assert "第 3 行，字段 民族：" in page and "ethnicity" not in page

    result = check_import("students", xlsx_bytes(rows), "新生.xlsx")  # the command line's words
    assert [(e.row, e.field) for e in result.errors] == [(3, "民族")]
    assert f"第 3 行，字段 民族：{result.errors[0].message}" in page
