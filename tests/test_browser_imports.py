"""A school's import in real Chromium: download the template, fill it with one bad row,
see the row marked on the preview, fix it, confirm, wait for done, find the students."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from forms.student_fields import XUEJI_BASE as STUDENT_COLUMNS
from webapp.models import AuditLog, Student

from .test_browser import Person, browser, expect, server  # noqa: F401  (fixtures)
from .test_import_jobs import student_row
from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)


def fill(template_path, target, rows) -> str:
    book = load_workbook(template_path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[: len(STUDENT_COLUMNS)] == list(STUDENT_COLUMNS)
    for row in rows:
        sheet.append(row)
    book.save(target)
    return str(target)


@pytest.mark.browser
def test_a_school_imports_its_students_in_chromium(server, browser, csrf_world, tmp_path):  # noqa: F811
    school = Person(browser, server, "uP1")
    page = school.page
    page.click("nav >> text=批量导入")
    with page.expect_download() as download:
        page.click("#template-xueji")
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)

    rows = [
        student_row(1, name="钱一"),
        student_row(2, name="钱二", grade="13"),
        student_row(3, name="钱三"),
    ]
    page.set_input_files("#file", fill(template, tmp_path / "bad.xlsx", rows))
    page.click("button:has-text('上传并检查')")
    expect(page.locator("#problem-count")).to_contain_text("1 处问题")
    marked = page.locator("#problems tr.problem")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("第 3 行")
    expect(marked).to_contain_text("grade")
    expect(page.locator("#confirm-import")).to_have_count(0)
    with page.expect_download() as download:
        page.click("#error-copy")
    download.value.save_as(tmp_path / "marked.xlsx")
    copy = load_workbook(tmp_path / "marked.xlsx").worksheets[0]
    notes = [c.value for c in copy[1]].index("错误说明") + 1
    assert [copy.cell(row=r, column=notes).value or "" for r in (2, 3, 4)] == [
        "",
        "grade：应在 1 到 12 之间，实为 13。",
        "",
    ]
    assert Student.query.filter(Student.name.like("钱%")).count() == 0

    rows[1] = student_row(2, name="钱二", grade="4")
    page.click("text=返回批量导入")
    page.set_input_files("#file", fill(template, tmp_path / "fixed.xlsx", rows))
    page.click("button:has-text('上传并检查')")
    expect(page.locator("#preview-count")).to_contain_text("将写入 3 行")
    page.click("#confirm-import")
    expect(page.locator("#import-done")).to_contain_text("写入 3 行")
    assert school.confirmations == ["确认导入 3 行学生名单？导入后不能撤销。"]

    page.click("#to-students")
    for name in ("钱一", "钱二", "钱三"):
        expect(page.locator("table.list")).to_contain_text(name)
    assert AuditLog.query.filter_by(action="import.students").count() == 1
    school.close()
