"""The browser UI through Flask's test client: sign-in, inbox, task pages, a full transfer."""

from __future__ import annotations

import re
import shutil

import pytest

from webapp.app import create_app
from webapp.extensions import db
from webapp.models import AuditLog, HumanTask, Instance, Notification
from workflows import engine

from .flows import act, transfer_data
from .world import PASSWORD, SECRET_KEY, build_world


@pytest.fixture
def csrf_app(template_db, tmp_path):
    """Like `app`, but with CSRF protection on, as in production."""
    path = tmp_path / "csrf.sqlite"
    shutil.copy(template_db, path)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
            "SECRET_KEY": SECRET_KEY,
            "DATA_DIR": str(tmp_path),
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def csrf_world(csrf_app):
    world = build_world()
    db.session.commit()
    return world


def text(resp) -> str:
    return resp.get_data(as_text=True)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def start_transfer(world, student, to_school="P3", **overrides) -> Instance:
    return engine.start(
        "transfer", world.users[to_school], transfer_data(student, to_school, **overrides)
    )


def open_task(instance: Instance) -> HumanTask:
    (task,) = engine.open_tasks(instance)
    return task


# -- sign-in -------------------------------------------------------------------------------


def test_sign_in_shows_who_and_where_then_sign_out(client, world):
    assert client.get("/").headers["Location"].startswith("/login")
    page = text(client.get("/login"))
    assert "登录学籍通" in page and 'name="csrf_token"' in page

    resp = client.post("/login", data={"username": "uP1", "password": PASSWORD})
    assert resp.status_code == 302
    inbox = text(client.get("/"))
    assert "uP1" in inbox and "海陵实验小学" in inbox and "学校学籍管理员" in inbox
    assert "待办任务" in inbox and "发起转学" in inbox
    assert AuditLog.query.filter_by(action="auth.login", user_id=world.users["P1"].id).count() == 1

    assert client.get("/logout").status_code == 405  # a link or an image cannot sign one out
    assert client.get("/").status_code == 200
    resp = client.post("/logout", follow_redirects=True)
    assert "您已安全退出" in text(resp)
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_in_chinese(client, world):
    resp = client.post("/login", data={"username": "uP1", "password": "nope"})
    assert resp.status_code == 401
    assert "用户名或密码错误" in text(resp)
    assert 'value="uP1"' in text(resp)  # the typed username stays
    assert client.get("/").status_code == 302
    assert AuditLog.query.filter_by(action="auth.login_failed").count() == 1


def test_inactive_user_is_refused(client, world):
    world.users["P1"].active = False
    db.session.commit()
    resp = client.post("/login", data={"username": "uP1", "password": PASSWORD})
    assert resp.status_code == 401 and "该账号已停用" in text(resp)


def test_login_redirects_only_inside_the_site(client, world):
    resp = client.post(
        "/login?next=//evil.example/x", data={"username": "uP1", "password": PASSWORD}
    )
    assert resp.headers["Location"] == "/"
    client.post("/logout")
    resp = client.post("/login?next=/students", data={"username": "uP1", "password": PASSWORD})
    assert resp.headers["Location"] == "/students"


# -- inbox -----------------------------------------------------------------------------------


def test_inbox_shows_only_own_tasks_newest_first_and_paginates(app, world, login):
    """Newest first is ?sort=-created (the default, most urgent first: tests/test_find_work.py)."""
    app.config["PER_PAGE"] = 2
    names = []
    for _ in range(3):
        student = world.student("P1", grade=4)
        start_transfer(world, student, "P3")
        names.append(student.name)
    elsewhere = world.student("P1", grade=3)
    start_transfer(world, elsewhere, "P4")  # lands at 广陵区, not 高港区

    client = login("u321203")
    first = text(client.get("/?sort=-created"))
    assert "共 3 条" in first and "下一页" in first
    assert names[2] in first and names[1] in first and names[0] not in first
    assert first.index(names[2]) < first.index(names[1])
    assert "转入地县级教育行政部门审核" in first and "转学" in first
    second = text(client.get("/?sort=-created&page=2"))
    assert names[0] in second and names[2] not in second
    assert elsewhere.name not in first + second

    client = login("u321202")  # the sending county has nothing yet
    assert "目前没有待办任务" in text(client.get("/"))


def test_claim_and_release(world, login):
    instance = start_transfer(world, world.student("P1", grade=4), "P3")
    instance = act(world, instance)  # the receiving county approves
    task = open_task(instance)
    assert task.org.code == "P1"

    client = login("uP1")
    resp = client.post(f"/tasks/{task.id}/claim", follow_redirects=True)
    assert "已认领该任务" in text(resp) and "释放" in text(resp)

    client = login("uP1b")
    page = text(client.get("/"))
    assert "uP1" in page and ">认领</button>" not in page
    resp = client.post(f"/tasks/{task.id}/claim", follow_redirects=True)
    assert "该任务已由 uP1 认领" in text(resp)
    resp = client.post(f"/tasks/{task.id}", data={"decision": "approve"}, follow_redirects=True)
    assert "该任务已由 uP1 认领" in text(resp)
    assert open_task(instance).id == task.id

    client = login("uP1")
    resp = client.post(f"/tasks/{task.id}/release", follow_redirects=True)
    assert "已释放该任务" in text(resp) and "未认领" in text(resp)


# -- a full transfer through the forms -------------------------------------------------------


def test_full_transfer_through_the_browser_forms(world, login):
    student = world.student("P1", grade=4, name="王小明")
    client = login("uP3")
    form = text(client.get("/transfers/new"))
    assert "高港实验小学（P3）" in form and 'name="to_school_code"' not in form
    resp = client.post(
        "/transfers/new",
        data={
            "id_number": student.id_number,
            "name": "王小明",
            "to_grade": "4",
            "to_class_name": "2",
            "reason": "household_move",
            "note": "随父母迁居",
        },
    )
    assert resp.status_code == 302
    page = text(client.get(resp.headers["Location"]))
    assert "自动检查通过" in page and "高港区" in page and "办理中" in page

    for username, step in (
        ("u321203", "转入地县级教育行政部门审核"),
        ("uP1", "转出学校审核"),
        ("u321202", "转出地县级教育行政部门审核"),
    ):
        client = login(username)
        inbox = text(client.get("/"))
        assert step in inbox and "王小明" in inbox
        task_id = int(re.search(r'href="/tasks/(\d+)"', inbox).group(1))
        task_page = text(client.get(f"/tasks/{task_id}"))
        for shown in ("王小明", student.id_number, "海陵实验小学", "高港实验小学", "户籍迁移"):
            assert shown in task_page
        assert "发起转学" in task_page  # the history so far
        resp = client.post(f"/tasks/{task_id}", data={"decision": "approve", "comment": "同意"})
        assert resp.status_code == 302
        assert "已提交" in text(client.get("/"))

    instance = Instance.query.filter_by(student_id=student.id).one()
    client = login("uP3")
    page = text(client.get(f"/instances/{instance.id}"))
    assert "已办结" in page and "转移学籍并通知双方学校" in page and "u321202" in page
    record = text(client.get(f"/students/{student.id}"))
    assert re.search(r'id="student-school">高港实验小学<', record)
    assert "学校：海陵实验小学 → 高港实验小学" in record
    assert '<span class="badge" id="unread-count">1</span>' in record
    notices = text(client.get("/notifications"))
    assert "转学手续已办结" in notices
    assert Notification.query.filter_by(org_id=world.orgs["P3"].id).one().read_at is not None


def test_rule_rejection_at_start_names_the_rule(world, login):
    student = world.student("P1", grade=4)
    client = login("uP3")
    resp = client.post(
        "/transfers/new",
        data={
            "id_number": student.id_number,
            "name": student.name,
            "to_grade": "5",
            "to_class_name": "1",
            "reason": "other",
        },
    )
    page = text(resp)
    # checked before creating: the rule's title beside the grade, no rule id, no instance
    assert resp.status_code == 422 and "年级不得变更：转学不得改变年级" in page
    assert "grade_unchanged" not in page and Instance.query.count() == 0


def test_start_with_bad_input_keeps_what_was_typed(world, login):
    student = world.student("P1", grade=4)
    client = login("uP3")
    typed = {
        "id_number": student.id_number,
        "name": "别人",
        "to_grade": "4",
        "to_class_name": "1",
        "note": "说明文字",
    }
    resp = client.post("/transfers/new", data={**typed, "reason": ""})
    page = text(resp)
    assert resp.status_code == 422 and "请选择转学原因" in page
    assert f'value="{student.id_number}"' in page and 'value="别人"' in page
    assert "说明文字</textarea>" in page

    resp = client.post("/transfers/new", data={**typed, "reason": "other"})
    page = text(resp)
    assert resp.status_code == 422
    assert "未找到相符的在籍学生" in page
    assert 'value="other" selected' in page and 'value="别人"' in page
    assert Instance.query.count() == 0


def test_transfer_page_is_for_schools_only(world, login):
    assert login("u321203").get("/transfers/new").status_code == 403


def test_reject_without_comment_rerenders_with_the_error(world, login):
    instance = start_transfer(world, world.student("P1", grade=4), "P3")
    task = open_task(instance)
    client = login("u321203")
    resp = client.post(f"/tasks/{task.id}", data={"decision": "reject", "comment": "  "})
    page = text(resp)
    assert resp.status_code == 422
    assert "不同意或退回时必须填写理由" in page
    assert re.search(r'value="reject"\s+checked', page)
    assert instance.status == "running"

    resp = client.post(f"/tasks/{task.id}", data={"decision": "reject", "comment": "材料不全"})
    assert resp.status_code == 302
    page = text(client.get(f"/instances/{instance.id}"))
    assert "未通过" in page and "审核不同意：材料不全" in page


def test_return_then_correct_from_the_prefilled_form(world, login):
    instance = start_transfer(world, world.student("P1", grade=4), "P3", to_class_name="3")
    client = login("u321203")
    client.post(
        f"/tasks/{open_task(instance).id}", data={"decision": "return", "comment": "请补充证明"}
    )
    task = open_task(instance)
    client = login("uP3")
    page = text(client.get(f"/tasks/{task.id}"))
    assert "转入学校修改并重新提交" in page and "请补充证明" in page
    assert '<option value="4" selected>' in page and 'name="to_class_name" value="3"' in page
    resp = client.post(
        f"/tasks/{task.id}",
        data={"to_grade": "4", "to_class_name": "3", "reason": "household_move", "note": "已补"},
    )
    assert resp.status_code == 302
    assert open_task(instance).step == "to_county_review"


def test_someone_else_completing_first_is_explained(world, login):
    instance = start_transfer(world, world.student("P1", grade=4), "P3")
    instance = act(world, instance)
    task = open_task(instance)
    client = login("uP1")
    assert client.get(f"/tasks/{task.id}").status_code == 200
    engine.complete(task.id, world.users["uP1b"], {"decision": "approve"})
    resp = client.post(f"/tasks/{task.id}", data={"decision": "approve"})
    assert resp.headers["Location"] == "/"
    assert "该任务已被他人（uP1b）办理" in text(client.get("/"))
    # opening the done task later shows where the procedure stands
    resp = client.get(f"/tasks/{task.id}", follow_redirects=True)
    assert "该任务已办理完毕" in text(resp) and "办理中" in text(resp)


# -- jurisdiction ------------------------------------------------------------------------------


def test_other_schools_records_are_not_found(world, login):
    student = world.student("P1", grade=4)
    instance = start_transfer(world, student, "P3")
    task = open_task(instance)
    client = login("uP2")
    assert client.get(f"/students/{student.id}").status_code == 404
    assert client.get(f"/instances/{instance.id}").status_code == 404
    assert client.get(f"/tasks/{task.id}").status_code == 404
    assert client.post(f"/tasks/{task.id}", data={"decision": "approve"}).status_code == 404
    assert client.post(f"/tasks/{task.id}/claim").status_code == 404
    page = client.get(f"/students/{student.id}")
    assert "不在您的管辖范围内" in text(page)
    assert student.name not in text(client.get("/students?q=" + student.id_number))
    assert text(client.get("/instances")).count(f'/instances/{instance.id}"') == 0
    # the sending school and both counties see the instance; the city above them too
    for username in ("uP1", "uP3", "u321202", "u321203", "u3212"):
        assert login(username).get(f"/instances/{instance.id}").status_code == 200


def test_student_list_search_and_record(app, world, login):
    app.config["PER_PAGE"] = 2
    target = world.student("P1", grade=8, name="李四")
    for _ in range(3):
        world.student("P1", grade=2)
    client = login("uP1")
    assert "共 4 条" in text(client.get("/students"))
    for q in ("李四", target.id_number[-6:], target.status_number):
        page = text(client.get("/students", query_string={"q": q}))
        assert "李四" in page and "八年级（初二）" in page, q
    assert "没有找到" in text(client.get("/students?q=不存在的人"))
    record = text(client.get(f"/students/{target.id}"))
    for shown in ("李四", target.id_number, "海陵实验小学", "在籍", target.status_number):
        assert shown in record
    assert "可发起的业务" in record and 'href="/transfers/new"' in record


def test_instance_list_filters_by_status(world, login):
    running = start_transfer(world, world.student("P1", grade=4), "P3")
    rejected = start_transfer(world, world.student("P1", grade=4), "P3", to_grade=6)
    assert rejected.status == "rejected"
    client = login("uP3")
    page = text(client.get("/instances"))
    assert f'/instances/{running.id}"' in page and f'/instances/{rejected.id}"' in page
    page = text(client.get("/instances?status=rejected"))
    assert f'/instances/{running.id}"' not in page and f'/instances/{rejected.id}"' in page


# -- CSRF --------------------------------------------------------------------------------------


def test_form_post_without_csrf_token_is_refused(csrf_app, csrf_world):
    client = csrf_app.test_client()
    resp = client.post("/login", data={"username": "uP1", "password": PASSWORD})
    assert resp.status_code == 400 and "安全令牌" in text(resp)
    token = csrf_token(text(client.get("/login")))
    resp = client.post(
        "/login", data={"username": "uP1", "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 302
    task_less = client.post("/tasks/1/claim")
    assert task_less.status_code == 400


def test_evidence_is_listed_and_served_only_within_reach(world, login):
    from webapp.models import FileUpload

    instance = start_transfer(world, world.student("P1", grade=4), "P3")
    upload = FileUpload(
        name="户籍迁移证明.pdf",
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
        content=b"%PDF-1.4",
        uploaded_by_id=world.users["P3"].id,
    )
    db.session.add(upload)
    db.session.flush()
    instance.data = {**instance.data, "evidence": [upload.id]}
    db.session.commit()
    client = login("u321203")
    page = text(client.get(f"/tasks/{open_task(instance).id}"))
    assert "证明材料" in page and "户籍迁移证明.pdf" in page
    resp = client.get(f"/instances/{instance.id}/files/{upload.id}")
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4"
    assert resp.headers["Content-Type"] == "application/pdf"
    assert login("uP2").get(f"/instances/{instance.id}/files/{upload.id}").status_code == 404
