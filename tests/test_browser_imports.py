"""A school's import in real Chromium: download the national template, fill it with one
bad row, see the row marked on the preview, fix it, confirm, wait for done, then export the
student list and open the file."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from forms.student_fields import NATIONAL_HEADERS
from webapp.extensions import db
from webapp.models import AuditLog, Student

from .test_browser import Person, browser, expect, server  # noqa: F401  (fixtures)
from .test_national_import import IDENTIFIER, national_row
from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)


def fill(template_path, target, rows: list[dict]) -> str:
    book = load_workbook(template_path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == list(NATIONAL_HEADERS)
    for row in rows:
        sheet.append([row[h] for h in header])
    book.save(target)
    return str(target)


@pytest.mark.browser
def test_a_school_imports_its_students_in_chromium(server, browser, csrf_world, tmp_path):  # noqa: F811
    csrf_world.orgs["P1"].identifier = IDENTIFIER
    db.session.commit()
    school = Person(browser, server, "uP1")
    page = school.page
    page.click("nav >> text=批量导入")
    with page.expect_download() as download:
        page.click("#template-national")
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)

    rows = [
        national_row(1, 姓名="钱一"),
        national_row(2, 姓名="钱二", 民族="汉"),
        national_row(3, 姓名="钱三"),
    ]
    page.set_input_files("#file", fill(template, tmp_path / "bad.xlsx", rows))
    page.click("button:has-text('上传并检查')")
    expect(page.locator("#problem-count")).to_contain_text("1 处问题")
    marked = page.locator("#problems tr.problem")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("第 3 行")
    expect(marked).to_contain_text("民族")
    expect(page.locator("#confirm-import")).to_have_count(0)
    with page.expect_download() as download:
        page.click("#error-copy")
    download.value.save_as(tmp_path / "marked.xlsx")
    copy = load_workbook(tmp_path / "marked.xlsx").worksheets[0]
    notes = [c.value for c in copy[1]].index("错误说明") + 1
    marks = [copy.cell(row=r, column=notes).value or "" for r in (2, 3, 4)]
    assert marks[0] == marks[2] == "" and marks[1].startswith("民族：") and "“汉”" in marks[1]
    assert Student.query.filter(Student.name.like("钱%")).count() == 0

    rows[1] = national_row(2, 姓名="钱二")
    page.click("text=返回批量导入")
    page.set_input_files("#file", fill(template, tmp_path / "fixed.xlsx", rows))
    page.click("button:has-text('上传并检查')")
    expect(page.locator("#preview-count")).to_contain_text("将写入 3 行")
    page.click("#confirm-import")
    expect(page.locator("#import-done")).to_contain_text("写入 3 行")
    assert school.confirmations == ["确认导入 3 行学生名单？导入后不能撤销。"]
    assert AuditLog.query.filter_by(action="import.students").count() == 1

    page.click("#to-students")
    page.fill("input[name=q]", "钱")
    page.keyboard.press("Enter")
    for name in ("钱一", "钱二", "钱三"):
        expect(page.locator("table.list")).to_contain_text(name)
    with page.expect_download() as download:
        page.click("a.export-link:has-text('导出 Excel')")
    download.value.save_as(tmp_path / "students.xlsx")
    sheet = load_workbook(tmp_path / "students.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    names = sorted(r[header.index("姓名")] for r in sheet.iter_rows(min_row=2, values_only=True))
    assert names == ["钱一", "钱三", "钱二"]
    ethnicity = header.index("民族")
    assert {r[ethnicity] for r in sheet.iter_rows(min_row=2, values_only=True)} == {"回族"}
    school.close()
