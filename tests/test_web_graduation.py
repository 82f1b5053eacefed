"""Graduation in the browser forms: submit a cohort, the roster page (counts, filters,
reasons), the county's changes on it, the XLSX download, and who may see what."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from webapp.models import Instance, RosterEntry, db

from .test_graduation import graduate_compulsory


def submit_cohort(world, login, n_ok=4, n_core=2):
    students = [graduate_compulsory(world) for _ in range(n_ok)]
    students += [graduate_compulsory(world, 数学="core") for _ in range(n_core)]
    school = login("uJ1")
    resp = school.post("/cohorts/graduation/new", data={"entry_year": "2024"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:800]
    return Instance.query.filter_by(procedure="graduation").one(), students


def test_school_submits_and_the_county_sees_counts_and_reasons(world, login):
    instance, _ = submit_cohort(world, login)
    page = login("uJ1").get(f"/instances/{instance.id}", follow_redirects=True)
    assert "查看名册" in page.get_data(as_text=True)
    county = login("u321202")
    task_page = county.get(f"/tasks/{instance.tasks[0].id}").get_data(as_text=True)
    assert "共 6 名学生：毕业 4，结业（修业） 2" in task_page
    roster = county.get(f"/instances/{instance.id}/roster").get_data(as_text=True)
    assert 'class="count-graduated">4<' in roster and 'class="count-completed">2<' in roster
    assert "语文、数学、外语中有不合格科目：数学" in roster
    only_completed = county.get(f"/instances/{instance.id}/roster?show=completed").get_data(
        as_text=True
    )
    assert only_completed.count("roster-change") == 2


def test_county_strikes_one_and_the_final_roster_has_the_numbers(world, login):
    instance, students = submit_cohort(world, login, n_ok=3, n_core=0)
    county = login("u321202")
    struck = RosterEntry.query.filter_by(student_id=students[0].id).one()
    resp = county.post(
        f"/instances/{instance.id}/roster/{struck.id}",
        data={"action": "strike", "comment": "该生已转出，不在本届名册"},
        follow_redirects=True,
    )
    assert "已剔除" in resp.get_data(as_text=True)
    refused = county.post(
        f"/instances/{instance.id}/roster/{struck.id}",
        data={"action": "reclassify", "classification": "left", "comment": ""},
        follow_redirects=True,
    )
    assert "请填写理由" in refused.get_data(as_text=True)
    county.post(f"/tasks/{instance.tasks[0].id}", data={"decision": "approve"})
    assert instance.status == "completed"
    book = load_workbook(io.BytesIO(county.get(f"/instances/{instance.id}/roster.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:5] == ("班级", "姓名", "身份证号", "学籍号", "结论")
    numbers = [r[8] for r in rows[1:] if r[8]]
    assert len(numbers) == 2 and len(set(numbers)) == 2
    assert [r[6] for r in rows[1:]].count("是") == 1
    assert students[0].status == "enrolled"


def test_the_school_sees_but_may_not_change_the_roster(world, login):
    instance, students = submit_cohort(world, login, n_ok=1, n_core=0)
    school = login("uJ1")
    page = school.get(f"/instances/{instance.id}/roster").get_data(as_text=True)
    assert "roster-change" not in page
    entry = RosterEntry.query.one()
    resp = school.post(
        f"/instances/{instance.id}/roster/{entry.id}",
        data={"action": "strike", "comment": "想剔除"},
        follow_redirects=True,
    )
    assert "名册只能在县级审核步骤中由审核单位修改" in resp.get_data(as_text=True)
    assert not RosterEntry.query.one().struck


def test_roster_outside_reach_is_404(world, login):
    instance, _ = submit_cohort(world, login, n_ok=1, n_core=0)
    entry = RosterEntry.query.one()
    other = login("u321203")
    assert other.get(f"/instances/{instance.id}/roster").status_code == 404
    assert other.get(f"/instances/{instance.id}/roster.xlsx").status_code == 404
    resp = other.post(
        f"/instances/{instance.id}/roster/{entry.id}", data={"action": "strike", "comment": "x"}
    )
    assert resp.status_code == 404
    assert login("uP1").get(f"/instances/{instance.id}/roster").status_code == 404


def test_submit_errors_keep_the_form(world, login):
    school = login("uJ1")
    resp = school.post("/cohorts/graduation/new", data={"entry_year": "二〇二四"})
    assert resp.status_code == 422
    assert "入学年份必须是整数" in resp.get_data(as_text=True)
    resp = school.post("/cohorts/graduation/new", data={"entry_year": "2024"})
    assert resp.status_code == 422  # refused on the form: no case that ends 未通过 at once
    assert "须有毕业年级在籍学生" in resp.get_data(as_text=True)
    assert 'value="2024"' in resp.get_data(as_text=True)
    assert Instance.query.filter_by(procedure="graduation").count() == 0
    world.student("J1", grade=9, entry_year=2024)
    db.session.commit()
    resp = school.post("/cohorts/graduation/new", data={"entry_year": "2024"})
    assert resp.status_code in (302, 303)  # the control: a cohort with a pupil is a case
    assert Instance.query.filter_by(procedure="graduation").count() == 1
    assert login("u321202").get("/cohorts/graduation/new").status_code == 403


def test_registration_from_a_spreadsheet_and_the_problem_list(world, login, tmp_path):
    """The browser uploads the admitted list; a duplicate comes back as a named problem."""
    from datetime import date

    from forms.student_fields import XUEJI_BASE

    from .test_imports import student_row, write_csv

    taken = world.student("P2", grade=1, birth_date=date(2019, 5, 1))  # of school age
    rows = [
        student_row(901, school="P1", grade=1, birth=date(2019, 3, 1), entry_year="2025"),
        student_row(902, school="P1", grade=1, birth=date(2019, 4, 1), entry_year="2025"),
    ]
    rows[1][0] = taken.id_number
    rows[1][3] = taken.birth_date.isoformat()
    rows[1][2] = taken.gender
    path = write_csv(tmp_path / "新生.csv", list(XUEJI_BASE), rows)
    school = login("uP1")
    with open(path, "rb") as fh:
        resp = school.post(
            "/cohorts/registration/new",
            data={"entry_year": "2025", "rows": (fh, "新生.csv")},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
    page = resp.get_data(as_text=True)
    # checked before anything is created: the list comes back with its problem named
    assert resp.status_code == 422 and "名单 2 人中有 1 行未通过检查" in page
    assert "第 3 行" in page and "已持有学籍" in page
    assert "海陵第二小学" not in page  # not where: another school
    assert Instance.query.filter_by(procedure="registration").count() == 0

    bad = school.post(
        "/cohorts/registration/new",
        data={"entry_year": "2026", "rows": (io.BytesIO(b"PK\x03\x04broken"), "a.xlsx")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "无法读取 XLSX 文件" in bad.get_data(as_text=True)
