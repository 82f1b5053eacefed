"""Issue 16 point 3: batch work. Many tasks of one step approved with one comment, each in
its own transaction (a refused one stops and undoes nothing); a county strikes or
reclassifies several roster entries with one reason; a school starts 复学 for several
students whose suspension has ended. Through the API and the pages."""

from __future__ import annotations

import io
from datetime import date

from webapp.extensions import db
from webapp.models import AuditLog, HumanTask, Instance

from .flows import open_steps
from .test_graduation import entry, graduate_compulsory, submit
from .test_status_change import upload
from .test_suspension import second_user, start


def _suspensions(world, n: int = 3):
    """n suspensions entered by uJ1 at 初中 J1, waiting at the school's four-eyes review."""
    second_user(world, "J1")
    instances = [start(world, world.student("J1", grade=8)) for _ in range(n)]
    return [engine_task(i) for i in instances]


def engine_task(instance: Instance) -> int:
    (task,) = HumanTask.query.filter_by(instance_id=instance.id, state="open").all()
    return task.id


APPROVE = {"decision": "approve", "comment": "材料齐全，同意"}


def test_batch_approve_does_each_and_a_refused_one_stops_nothing(api, world):
    tasks = _suspensions(world, 3)
    # One entered by uJ1b itself: four eyes bars uJ1b from its school review.
    own = start(world, world.student("J1", grade=8), school="uJ1b")
    own_task = engine_task(own)
    # One claimed by uJ1: uJ1b may not complete it.
    claimed = tasks[2]
    assert api("uJ1").post(f"/api/v1/tasks/{claimed}/claim").status_code == 200
    # A task of another school: out of reach, reported as not found.
    elsewhere = engine_task(start(world, world.student("J2", grade=8)))
    ids = [tasks[0], own_task, tasks[1], claimed, elsewhere]
    resp = api("uJ1b").post("/api/v1/tasks/complete", json={"task_ids": ids, "data": APPROVE})
    assert resp.status_code == 200, resp.get_json()
    items = {i["task_id"]: i for i in resp.get_json()["items"]}
    assert [i["task_id"] for i in resp.get_json()["items"]] == ids
    assert items[tasks[0]]["status"] == items[tasks[1]]["status"] == "done"
    assert items[own_task]["status"] == "refused" and "四眼原则" in items[own_task]["error"]
    assert items[claimed]["status"] == "refused" and "认领" in items[claimed]["error"]
    assert items[elsewhere] == {
        "task_id": elsewhere,
        "status": "refused",
        "error": "任务不存在或不在您的办理范围内。",
        "code": "not_found",
    }
    # The done ones moved on to the county; the refused ones are untouched.
    db.session.expire_all()
    for task_id in (tasks[0], tasks[1]):
        row = db.session.get(HumanTask, task_id)
        assert row.state == "completed" and row.completed_by.username == "uJ1b"
        assert open_steps(row.instance) == [("county_review", "321202")]
        assert row.instance.events[-1].comment == "材料齐全，同意"
    for task_id in (own_task, claimed, elsewhere):
        assert db.session.get(HumanTask, task_id).state == "open"
    assert AuditLog.query.filter_by(action="task.complete").count() == 2
    # The county approves the two it received in one go, too.
    county = [t["id"] for t in api("u321202").get("/api/v1/tasks").get_json()["items"]]
    assert len(county) == 2
    resp = api("u321202").post("/api/v1/tasks/complete", json={"task_ids": county, "data": APPROVE})
    assert {i["status"] for i in resp.get_json()["items"]} == {"done"}
    assert {i["instance_status"] for i in resp.get_json()["items"]} <= {"running", "completed"}


def test_a_batch_of_mixed_steps_or_bad_data_is_refused_whole(api, world):
    tasks = _suspensions(world, 2)
    school_review = tasks[0]
    # Move the second on to the county, then give the county a school-review-free mix:
    # a resumption's school review beside a suspension's school review is two steps.
    student = world.student("J1", grade=8, status="suspended", suspended_until=date(2026, 1, 1))
    other = engine_task(start(world, student, "resumption", resume_date="2026-09-01", to_grade=8))
    resp = api("uJ1b").post(
        "/api/v1/tasks/complete", json={"task_ids": [school_review, other], "data": APPROVE}
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert "只能批量办理同一步骤的任务" in error["fields"]["task_ids"][0]
    assert "休学" in error["fields"]["task_ids"][0] and "复学" in error["fields"]["task_ids"][0]
    # Data the step's form refuses: 422 naming the field, nothing done.
    resp = api("uJ1b").post("/api/v1/tasks/complete", json={"task_ids": tasks, "data": {}})
    assert resp.status_code == 422 and "decision" in resp.get_json()["error"]["fields"]
    # Over the limit.
    resp = api("uJ1b").post(
        "/api/v1/tasks/complete", json={"task_ids": list(range(1, 502)), "data": APPROVE}
    )
    assert resp.status_code == 422 and "task_ids" in resp.get_json()["error"]["fields"]
    assert all(db.session.get(HumanTask, t).state == "open" for t in (*tasks, other))
    # Control: the same two of one step, good data.
    resp = api("uJ1b").post("/api/v1/tasks/complete", json={"task_ids": tasks, "data": APPROVE})
    assert [i["status"] for i in resp.get_json()["items"]] == ["done", "done"]


# -- inbox page -----------------------------------------------------------------------------


def test_the_inbox_batch_page_confirms_then_reports_each(client, login, world):
    tasks = _suspensions(world, 2)
    own_task = engine_task(start(world, world.student("J1", grade=8), school="uJ1b"))
    login("uJ1b")
    inbox = client.get("/").get_data(as_text=True)
    assert 'form="batch-select"' in inbox and "全选本页同一步骤" in inbox
    assert "休学“学校审核”（3 项）" in inbox or "（3 项）" in inbox
    ids = [*tasks, own_task]
    page = client.get("/tasks/batch", query_string={"task_ids": ids})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('name="task_ids"') == 3
    assert 'value="approve"' in html and 'value="return"' in html
    assert 'value="reject"' not in html  # 不同意 is decided case by case
    assert 'data-confirm="确认以同一意见提交这 3 项任务' in html and "csrf_token" in html
    # Nothing was done by looking.
    assert all(db.session.get(HumanTask, t).state == "open" for t in ids)
    # No decision: the form again, naming the field, nothing done.
    resp = client.post("/tasks/batch", data={"task_ids": ids, "comment": "同意"})
    assert resp.status_code == 422 and "请选择" in resp.get_data(as_text=True)
    assert all(db.session.get(HumanTask, t).state == "open" for t in ids)
    resp = client.post("/tasks/batch", data={"task_ids": ids, "decision": "approve"})
    report = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "共 3 项：已办理 2 项，未办理 1 项" in report
    assert "四眼原则" in report and report.count("已办理</span>") == 2
    db.session.expire_all()
    assert [db.session.get(HumanTask, t).state for t in ids] == ["completed", "completed", "open"]


def test_the_inbox_batch_page_refuses_mixed_steps(client, login, world):
    (task,) = _suspensions(world, 1)
    student = world.student("J1", grade=8, status="suspended", suspended_until=date(2026, 1, 1))
    other = engine_task(start(world, student, "resumption", resume_date="2026-09-01", to_grade=8))
    login("uJ1b")
    resp = client.get(
        "/tasks/batch", query_string={"task_ids": [task, other]}, follow_redirects=True
    )
    assert "只能批量办理同一步骤的任务" in resp.get_data(as_text=True)
    # Control: the one step alone is offered.
    assert client.get("/tasks/batch", query_string={"task_ids": [task]}).status_code == 200


# -- roster -----------------------------------------------------------------------------------


def test_the_county_strikes_several_with_one_reason(client, login, world):
    a, b, c = (graduate_compulsory(world) for _ in range(3))
    instance = submit(world)
    ids = [entry(instance, s).id for s in (a, b)]
    url = f"/instances/{instance.id}/roster/bulk"
    # The school sees the roster but is not its reviewer: refused, nothing changed.
    login("uJ1")
    resp = client.post(
        url, data={"entry_ids": ids, "action": "strike", "comment": "待核实"}, follow_redirects=True
    )
    assert "名册只能在县级审核步骤中由审核单位修改" in resp.get_data(as_text=True)
    assert not any(entry(instance, s).struck for s in (a, b))
    login("u321202")
    page = client.get(f"/instances/{instance.id}/roster").get_data(as_text=True)
    assert 'form="roster-bulk"' in page
    # No reason: refused naming it.
    resp = client.post(url, data={"entry_ids": ids, "action": "strike"}, follow_redirects=True)
    assert "请填写理由" in resp.get_data(as_text=True)
    resp = client.post(
        url,
        data={"entry_ids": ids, "action": "strike", "comment": "学籍信息待核实"},
        follow_redirects=True,
    )
    assert "已将 2 名学生剔除" in resp.get_data(as_text=True)
    db.session.expire_all()
    for s in (a, b):
        e = entry(instance, s)
        assert e.struck and e.comment == "学籍信息待核实" and e.changed_by.username == "u321202"
    assert not entry(instance, c).struck
    assert AuditLog.query.filter_by(action="roster.strike").count() == 2
    resp = client.post(
        url,
        data={
            "entry_ids": [entry(instance, c).id],
            "action": "reclassify",
            "classification": "completed",
            "comment": "体育补考不合格",
        },
        follow_redirects=True,
    )
    assert "已将 1 名学生改为结业（修业）" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert entry(instance, c).classification == "completed"


# -- several students, one 复学 ----------------------------------------------------------------


def _suspended(world, until: date, **kw):
    return world.student("J1", grade=8, status="suspended", suspended_until=until, **kw)


def test_a_school_resumes_several_whose_suspension_ended(api, world, client, login):
    ended = [_suspended(world, date(2026, 1, 1)), _suspended(world, date(2025, 9, 1))]
    running = _suspended(world, date(2099, 9, 1))
    other_school = world.student(
        "J2", grade=8, status="suspended", suspended_until=date(2026, 1, 1)
    )
    file_id = upload(world.users["J1"])
    ids = [s.id for s in (*ended, running, other_school)]
    resp = api("uJ1").post(
        "/api/v1/resumptions",
        json={"student_ids": ids, "data": {"resume_date": "2026-09-01", "evidence": [file_id]}},
    )
    assert resp.status_code == 200, resp.get_json()
    items = {i["student_id"]: i for i in resp.get_json()["items"]}
    for s in ended:
        assert items[s.id]["status"] == "done"
        instance = db.session.get(Instance, items[s.id]["instance_id"])
        assert instance.procedure == "resumption" and instance.data["to_grade"] == 8
        assert open_steps(instance) == [("school_review", "J1")]
    assert items[running.id]["status"] == "refused"
    assert "2099-09-01 届满" in items[running.id]["error"]
    assert items[other_school.id]["code"] == "not_found"
    assert Instance.query.filter_by(student_id=running.id).count() == 0
    # The page lists only the school's own whose suspension ended (now none: both started).
    fresh = _suspended(world, date(2026, 2, 1), name="待复学")
    login("uJ1")
    page = client.get("/students/resumptions").get_data(as_text=True)
    assert "待复学" in page and running.name not in page and other_school.name not in page
    resp = client.post("/students/resumptions", data={"student_ids": [fresh.id]})
    assert resp.status_code == 422 and "复学日期" in resp.get_data(as_text=True)
    resp = client.post(
        "/students/resumptions",
        data={
            "student_ids": [fresh.id, running.id],
            "resume_date": "2026-09-01",
            "evidence": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "复学证明.pdf"),
        },
        content_type="multipart/form-data",
    )
    report = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已提交 1 名，未提交 1 名" in report
    assert "期满前不得复学" in report
    assert Instance.query.filter_by(student_id=fresh.id, procedure="resumption").count() == 1
