"""New-student registration (新生注册): the list checked row by row with 查重, the problem
list back to the school, the county's review, status numbers, all rows or none."""

from __future__ import annotations

import json
from datetime import date

import pytest

import handlers
from forms.student_rows import check_students
from forms.validators import build_id_number
from webapp.extensions import db
from webapp.models import AuditLog, Notification, StatusHistory, Student
from workflows import deploy, engine
from workflows.errors import Conflict, Invalid, NotFound
from workflows.services import EngineContext as Context

from .flows import open_steps

ENTRY = 2026
AGE_OK = date(2019, 10, 1)  # 6 by 31 August 2026, not yet 7


def admitted(n: int, school="P1", grade=1, birth=AGE_OK, gender=None, **over) -> dict:
    """One row of an admitted list, with the student-import columns."""
    gender = gender or ("M" if n % 2 else "F")
    row = {
        "id_number": build_id_number("321202", birth, 400 + n, gender),
        "name": f"新生{n}",
        "gender": gender,
        "birth_date": birth.isoformat(),
        "school_code": school,
        "grade": grade,
        "class_name": "一(1)班",
        "entry_year": ENTRY,
        "household_code": "321202",
        "guardian_name": "李华",
        "guardian_phone": "13900000000",
    }
    if grade >= 10:  # admitted by the city: the notice's reporting day, and the report
        row.update(report_by=f"{ENTRY}-09-01", reported_on=f"{ENTRY}-08-30")
    row.update(over)
    return row


def same_person(student: Student, **over) -> dict:
    """A list row for a person who already holds a record."""
    return admitted(
        0,
        id_number=student.id_number,
        name=student.name,
        gender=student.gender,
        birth_date=student.birth_date.isoformat(),
        **over,
    )


def submit(world, rows, school="P1", entry_year=ENTRY):
    return engine.start(
        "registration",
        world.users[school],
        {"school_code": school, "entry_year": entry_year, "rows": rows},
    )


def resubmit(world, instance, rows, school="P1", note="已按问题清单修改"):
    (task,) = engine.open_tasks(instance)
    assert task.step == "fix_rows"
    return engine.complete(task.id, world.users[school], {"rows": rows, "note": note})


def review(world, instance, decision="approve", comment="", county="321202"):
    (task,) = engine.open_tasks(instance)
    assert task.step == "county_review"
    return engine.complete(task.id, world.users[county], {"decision": decision, "comment": comment})


def city_review(world, instance, decision="approve", comment="", city="3212"):
    """Senior and vocational lists: the city admits and approves after the county."""
    (task,) = engine.open_tasks(instance)
    assert task.step == "city_review"
    return engine.complete(task.id, world.users[city], {"decision": decision, "comment": comment})


def problems(instance) -> list[tuple[int, str, str]]:
    return [(p["row"], p["field"], p["message"]) for p in instance.data["check"]["problems"]]


def registered(rows) -> list[Student]:
    ids = [r["id_number"] for r in rows]
    return Student.query.filter(Student.id_number.in_(ids), Student.status == "enrolled").all()


# -- the whole chain -----------------------------------------------------------------------


def test_clean_list_is_reviewed_and_registered_with_national_numbers(world):
    rows = [admitted(1), admitted(2), admitted(3, school_code="", entry_year=None)]
    instance = submit(world, rows)
    assert instance.status == "running" and instance.student_id is None
    assert instance.school.code == "P1"
    assert open_steps(instance) == [("county_review", "321202")]
    assert instance.data["check"]["ok"] and instance.data["check"]["total"] == 3
    assert registered(rows) == []  # nothing exists before the county approves

    instance = review(world, instance)

    assert instance.status == "completed"
    students = sorted(registered(rows), key=lambda s: s.name)
    assert [s.name for s in students] == ["新生1", "新生2", "新生3"]
    for s, row in zip(students, rows, strict=True):
        assert s.status_number == "G" + row["id_number"]
        assert (s.school.code, s.grade, s.entry_year) == ("P1", 1, ENTRY)
        assert s.birth_date == AGE_OK and s.guardian_name == "李华"
        (h,) = s.history
        assert (h.procedure, h.instance_id, h.before) == ("registration", instance.id, {})
        assert h.after == {
            "status": "enrolled",
            "status_number": "G" + row["id_number"],
            "school_code": "P1",
            "grade": 1,
            "class_name": "一(1)班",
        }
    assert instance.data["check"]["created"] == 3
    assert Notification.query.filter_by(instance_id=instance.id).count() == 1
    (log,) = AuditLog.query.filter_by(action="students.registration").all()
    assert sorted(log.after["created"]) == sorted(s.id for s in students)


def test_duplicate_of_another_schools_student_fix_and_resubmit(world):
    """The must-show: 查重 names the row, but not the other school; the school removes it."""
    elsewhere = world.student("P2", grade=1, entry_year=ENTRY, birth_date=AGE_OK)
    rows = [admitted(1), same_person(elsewhere), admitted(3)]
    instance = submit(world, rows)

    assert instance.status == "running"
    assert open_steps(instance) == [("fix_rows", "P1")]
    ((row, field, message),) = problems(instance)
    assert (row, field) == (2, "id_number")
    assert "已持有学籍" in message
    told = str(instance.data) + " ".join(e.comment or "" for e in instance.events)
    assert "海陵第二小学" not in told and "G" + elsewhere.id_number not in told
    assert instance.data["check"]["problems"][0]["name"] == elsewhere.name
    assert instance.data["check"]["problem_rows"] == 1
    assert registered([rows[0], rows[2]]) == []
    event = instance.events[-1]
    assert (event.step, event.decision) == ("check", "fail")
    assert "第 2 行，字段 id_number" in event.comment

    fixed = [rows[0], rows[2]]
    instance = resubmit(world, instance, fixed)
    assert open_steps(instance) == [("county_review", "321202")]
    instance = review(world, instance)

    assert instance.status == "completed"
    assert {s.status_number for s in registered(fixed)} == {"G" + r["id_number"] for r in fixed}
    db.session.refresh(elsewhere)
    assert (elsewhere.school.code, elsewhere.status) == ("P2", "enrolled")
    assert Student.query.filter_by(id_number=elsewhere.id_number).count() == 1


def test_a_suspended_student_counts_a_graduated_one_does_not(world):
    suspended = world.student("J1", grade=8, status="suspended")
    graduated = world.student("P2", grade=6, status="graduated")
    rows = [
        same_person(suspended, school="J1", grade=7),
        same_person(graduated, school="J1", grade=7),
    ]
    instance = submit(world, rows, school="J1")
    ((row, field, message),) = problems(instance)
    assert (row, field) == (1, "id_number") and "已持有学籍" in message


def test_a_column_missing_from_every_row_is_named_on_each_row(world):
    rows = [{k: v for k, v in admitted(n).items() if k != "gender"} for n in (1, 2)]
    instance = submit(world, rows)
    assert [(row, field) for row, field, _ in problems(instance)] == [
        (1, "gender"),
        (2, "gender"),
    ]


def test_duplicate_inside_the_list(world):
    rows = [admitted(1), admitted(2), admitted(1)]
    instance = submit(world, rows)
    assert problems(instance) == [(3, "id_number", "身份证号与第 1 行重复。")]


def test_bad_check_digit_is_named_and_corrected(world):
    good = admitted(2)
    last = good["id_number"][-1]
    typo = dict(good, id_number=good["id_number"][:-1] + ("0" if last != "0" else "1"))
    instance = submit(world, [admitted(1), typo])
    ((row, field, message),) = problems(instance)
    assert (row, field) == (2, "id_number") and "校验位错误" in message

    instance = resubmit(world, instance, [admitted(1), good])
    instance = review(world, instance)
    assert instance.status == "completed"
    assert len(registered([admitted(1), good])) == 2


def test_every_problem_of_every_row_in_one_list(world):
    rows = [
        admitted(1, name="", gender="X"),
        admitted(2, school_code="P2"),  # another school's pupil
        admitted(3, entry_year=2025),
        admitted(4, grade=2),  # not a first-year pupil
        admitted(5, school_code="J1", grade=7),
        admitted(6, birth_date="2019/10/01"),
        {"name": "缺列的人"},
    ]
    instance = submit(world, rows)
    got = {(row, field) for row, field, _ in problems(instance)}
    assert {(1, "name"), (1, "gender"), (2, "school_code"), (3, "entry_year")} <= got
    assert {(4, "grade"), (5, "school_code"), (6, "birth_date"), (7, "id_number")} <= got
    messages = {(row, field): message for row, field, message in problems(instance)}
    assert "只能登记本校（海陵实验小学，代码 P1）的新生" in messages[(2, "school_code")]
    assert "“P2”（海陵第二小学）" in messages[(2, "school_code")]
    assert messages[(3, "entry_year")] == "应为本次注册的入学年份 2026，实为 2025。"
    assert "起始年级（本校：小学一年级）" in messages[(4, "grade")]
    assert messages[(7, "id_number")] == "不能为空。"
    assert instance.data["check"]["problem_rows"] == 7
    assert open_steps(instance) == [("fix_rows", "P1")]


# -- school age (000 第五条) ----------------------------------------------------------------


def test_under_age_is_refused_even_with_a_deferral(world):
    young = date(2020, 9, 1)  # turns 6 one day after 31 August 2026
    instance = submit(world, [admitted(1, birth=young), admitted(2, birth=young, deferral="是")])
    assert [(row, field) for row, field, _ in problems(instance)] == [
        (1, "birth_date"),
        (2, "birth_date"),
    ]
    assert "须年满 6 周岁（2020 年 8 月 31 日及以前出生" in problems(instance)[0][2]
    assert "未到入学年龄" in problems(instance)[1][2]


def test_six_on_31_august_is_in_time(world):
    instance = submit(world, [admitted(1, birth=date(2020, 8, 31))])
    assert open_steps(instance) == [("county_review", "321202")]


def test_over_age_needs_a_noted_deferral(world):
    old = date(2019, 8, 31)  # already 7 on 31 August 2026
    instance = submit(world, [admitted(1, birth=old), admitted(2, birth=old, deferral="否")])
    assert [(row, field) for row, field, _ in problems(instance)] == [
        (1, "birth_date"),
        (2, "birth_date"),
    ]
    assert "deferral 列注明" in problems(instance)[0][2]

    noted = admitted(1, birth=old, deferral="海教发〔2025〕12号 批准延缓入学")
    instance = resubmit(world, instance, [noted, admitted(2, birth=old, deferral=True)])
    instance = review(world, instance)
    assert instance.status == "completed"
    first = Student.query.filter_by(id_number=noted["id_number"]).one()
    assert first.history[0].after["deferral"] == "海教发〔2025〕12号 批准延缓入学"


def test_the_age_rule_is_for_primary_year_1_only(world):
    rows = [admitted(1, school="J1", grade=7, birth=date(2013, 1, 1))]
    assert open_steps(submit(world, rows, school="J1")) == [("county_review", "321202")]


# -- the county ----------------------------------------------------------------------------


def test_county_rejects(world):
    rows = [admitted(1)]
    instance = review(world, submit(world, rows), "reject", "不属于本校施教区")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert instance.reason_message == "不属于本校施教区"
    assert registered(rows) == []


def test_county_returns_and_the_school_resubmits(world):
    rows = [admitted(1), admitted(2)]
    instance = review(world, submit(world, rows), "return", "第 2 行学生未报到，请删除")
    assert open_steps(instance) == [("fix_rows", "P1")]
    assert registered(rows) == []
    instance = resubmit(world, instance, rows[:1], note="已删除未报到学生")
    instance = review(world, instance)
    assert instance.status == "completed"
    assert [s.name for s in registered(rows)] == ["新生1"]


def test_only_the_county_of_the_school_reviews(world):
    instance = submit(world, [admitted(1)])
    (task,) = engine.open_tasks(instance)
    with pytest.raises(NotFound):
        engine.complete(task.id, world.users["321203"], {"decision": "approve"})


# -- all rows or none ----------------------------------------------------------------------


def test_finalize_checks_again_and_creates_nothing_on_a_new_duplicate(world):
    rows = [admitted(1), admitted(2)]
    instance = submit(world, rows)
    assert open_steps(instance) == [("county_review", "321202")]
    # While the list waits for review, another school enrols the second child.
    other = Student(
        id_number=rows[1]["id_number"],
        name=rows[1]["name"],
        gender=rows[1]["gender"],
        birth_date=AGE_OK,
        school=world.orgs["P3"],
        grade=1,
        entry_year=ENTRY,
        status="enrolled",
        status_number="G" + rows[1]["id_number"],
    )
    db.session.add(other)
    db.session.commit()

    instance = review(world, instance)

    assert instance.status == "running"
    assert open_steps(instance) == [("fix_rows", "P1")]
    ((row, field, message),) = problems(instance)
    assert (row, field) == (2, "id_number") and "已持有学籍" in message
    assert "高港实验小学" not in message
    assert "办结前复查：未创建任何学籍" in instance.data["check"]["message"]
    assert Student.query.filter_by(id_number=rows[0]["id_number"]).count() == 0
    assert StatusHistory.query.filter_by(instance_id=instance.id).count() == 0

    instance = review(world, resubmit(world, instance, rows[:1]))
    assert instance.status == "completed"
    assert len(registered(rows[:1])) == 1


def test_a_failure_while_creating_rolls_every_row_back(world, monkeypatch):
    import handlers.registration as registration

    rows = [admitted(1), admitted(2), admitted(3)]
    instance = submit(world, rows)
    real = registration.create_records

    def fails_after_inserting(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(registration, "create_records", fails_after_inserting)
    (task,) = engine.open_tasks(instance)
    with pytest.raises(RuntimeError):
        engine.complete(task.id, world.users["321202"], {"decision": "approve"})

    assert Student.query.filter(Student.id_number.in_([r["id_number"] for r in rows])).count() == 0
    db.session.refresh(instance)
    assert instance.status == "running"
    assert open_steps(instance) == [("county_review", "321202")]

    monkeypatch.setattr(registration, "create_records", real)
    instance = review(world, instance)
    assert instance.status == "completed" and len(registered(rows)) == 3


def test_final_step_runs_once(world):
    rows = [admitted(1), admitted(2)]
    instance = review(world, submit(world, rows))
    before = Student.query.count()
    again = handlers.HANDLERS["registration.finalize"](Context(instance, None, instance.data))
    assert again["ok"] and again["created"] == 2
    assert Student.query.count() == before
    assert StatusHistory.query.filter_by(instance_id=instance.id).count() == 2


# -- start rules ---------------------------------------------------------------------------


def test_one_open_registration_per_school_and_entry_year(world):
    submit(world, [admitted(1)])
    with pytest.raises(Conflict, match="海陵实验小学 2026 级已有正在办理的新生注册"):
        submit(world, [admitted(2)])
    other_year = submit(
        world, [admitted(3, birth=date(2018, 10, 1), entry_year=2025)], entry_year=2025
    )
    assert other_year.status == "running"


def test_only_the_own_school_submits_and_the_list_has_a_shape(world):
    with pytest.raises(Invalid) as err:
        engine.start(
            "registration",
            world.users["P2"],
            {"school_code": "P1", "entry_year": ENTRY, "rows": [admitted(1)]},
        )
    assert "school_code" in err.value.fields
    for rows, expected in (
        ([], "新生名单不能为空：至少一行。"),
        (None, "请提供新生名单。"),
        ("a.csv", "新生名单必须是行的列表：每行一个对象（列名 → 值）。"),
        ([admitted(1), "x"], "第 2 行必须是对象（列名 → 值）。"),
        ([{"name": ["甲"]}], "第 1 行“name”的值必须是文字或数字。"),
    ):
        with pytest.raises(Invalid) as err:
            submit(world, rows)
        assert err.value.fields["rows"] == [expected]


def test_the_import_checks_take_a_list_of_objects(app, world):
    good = admitted(1)
    checked, errors = check_students([good, {"name": "甲", "grade": "1"}])
    assert [c["id_number"] for c in checked] == [good["id_number"]]
    assert {(e.row, e.field) for e in errors} == {
        (2, "id_number"),
        (2, "gender"),
        (2, "birth_date"),
        (2, "school_code"),
        (2, "entry_year"),
    }


# -- regional numbering --------------------------------------------------------------------


def test_a_region_switches_to_fujian_vocational_numbers(world):
    bpmn, dmn = deploy.read_files("registration")
    table = dmn["registration_numbering.dmn"]
    fujian = table.replace('<text>"national"</text>', '<text>"fujian_vocational"</text>')
    assert fujian != table
    deploy.deploy("registration", bpmn, {**dmn, "registration_numbering.dmn": fujian})
    db.session.commit()

    def vocational(n):
        return admitted(n, school="V1", grade=10, birth=date(2010, 10, 1))

    first = [vocational(1), vocational(2)]
    instance = review(world, submit(world, first, school="V1"), county="321203")
    instance = city_review(world, instance)  # the city admits vocational students (item 13)
    assert instance.status == "completed"
    # 2 entry year + 2 county (321203) + 2 school (V1 → 01) + 4 serial (002 第八条)
    numbers = sorted(s.status_number for s in registered(first))
    assert numbers == ["2603010001", "2603010002"]

    second = [vocational(3)]
    instance = city_review(
        world, review(world, submit(world, second, school="V1"), county="321203")
    )
    assert [s.status_number for s in registered(second)] == ["2603010003"]


# -- API and pages -------------------------------------------------------------------------


def test_registration_through_the_api(api, world):
    as_p1 = api("uP1")
    keys = [p["key"] for p in as_p1.get("/api/v1/procedures").get_json()["items"]]
    assert "registration" in keys
    elsewhere = world.student("P4", grade=1, entry_year=ENTRY, birth_date=AGE_OK)
    rows = [admitted(1), same_person(elsewhere)]
    body = {
        "procedure": "registration",
        "data": {"school_code": "P1", "entry_year": ENTRY, "rows": rows},
    }
    resp = as_p1.post("/api/v1/instances", json=body)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert (out["status"], out["student_id"]) == ("running", None)
    assert [(t["lane"], t["org_code"]) for t in out["current_tasks"]] == [("school", "P1")]
    (problem,) = out["data"]["check"]["problems"]
    assert problem["row"] == 2 and "已持有学籍" in problem["message"]
    assert "广陵小学" not in json.dumps(out, ensure_ascii=False)

    again = as_p1.post("/api/v1/instances", json=body)
    assert again.status_code == 409
    assert "正在办理的新生注册" in again.get_json()["error"]["message"]

    (task,) = as_p1.get("/api/v1/tasks").get_json()["items"]
    resp = as_p1.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"rows": rows[:1]}})
    assert resp.status_code == 200
    county = api("u321202")
    (task,) = county.get("/api/v1/tasks").get_json()["items"]
    resp = county.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "approve"}}
    )
    assert resp.get_json()["status"] == "completed"
    found = as_p1.get("/api/v1/students", query_string={"q": "G" + rows[0]["id_number"]})
    (student,) = found.get_json()["items"]
    assert student["status"] == "enrolled" and student["school_code"] == "P1"

    bad = as_p1.post(
        "/api/v1/instances",
        json={"procedure": "registration", "data": {"school_code": "P1", "entry_year": 2025}},
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"]["rows"] == ["请提供新生名单。"]


def test_instance_page_shows_the_school_the_list_size_and_the_problems(login, world):
    elsewhere = world.student("P2", grade=1, entry_year=ENTRY, birth_date=AGE_OK)
    rows = [admitted(1), same_person(elsewhere), admitted(3)]
    instance = submit(world, rows)
    page = login("uP1").get(f"/instances/{instance.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "海陵实验小学" in html and "3 人" in html and "2026" in html
    assert "名单问题清单" in html and "已持有学籍" in html
    assert "海陵第二小学" not in html  # another school's pupil: not the school's to know
    assert rows[0]["id_number"] not in html  # the list itself is not dumped on the page
    county = login("u321202").get(f"/instances/{instance.id}").get_data(as_text=True)
    assert "学籍在海陵第二小学（在籍，学籍号 G" + elsewhere.id_number in county


@pytest.mark.postgres
def test_registration_on_postgres(pg_app):
    from .world import build_world

    world = build_world()
    db.session.commit()
    elsewhere = world.student("P2", grade=1, entry_year=ENTRY, birth_date=AGE_OK)
    rows = [admitted(1), same_person(elsewhere), admitted(3)]
    instance = submit(world, rows)
    assert [(row, field) for row, field, _ in problems(instance)] == [(2, "id_number")]
    instance = review(world, resubmit(world, instance, [rows[0], rows[2]]))
    assert instance.status == "completed"
    created = registered([rows[0], rows[2]])
    assert sorted(s.status_number for s in created) == sorted(
        "G" + r["id_number"] for r in (rows[0], rows[2])
    )
    assert {h.student_id for h in StatusHistory.query.filter_by(instance_id=instance.id)} == {
        s.id for s in created
    }


def test_only_a_bureau_whose_reach_covers_the_holder_sees_who(world, login):
    """P1 (海陵区) lists an ID held at P3 (高港区): P1 and its county see only that it is
    held; the city over both sees where; an ID held at P1's own school P1 may see."""
    elsewhere = world.student("P3", grade=1, entry_year=ENTRY, birth_date=AGE_OK)
    own = world.student("P1", grade=1, entry_year=ENTRY, birth_date=AGE_OK)
    instance = submit(world, [admitted(1), same_person(elsewhere), same_person(own)])
    assert [(r, f) for r, f, _ in problems(instance)] == [(2, "id_number"), (3, "id_number")]
    page = lambda user: login(user).get(f"/instances/{instance.id}").text  # noqa: E731
    school, county, city = page("uP1"), page("u321202"), page("u3212")
    for text in (school, county):
        assert "已持有学籍" in text
        assert "高港实验小学" not in text and "G" + elsewhere.id_number not in text
    assert "学籍在海陵实验小学（在籍，学籍号 G" + own.id_number in school  # its own pupil
    assert "学籍在高港实验小学（在籍，学籍号 G" + elsewhere.id_number in city
