"""Issue 16, point 2: find work. The inbox's filters, most urgent first and counts per
procedure; 业务查询's and the student list's filters; saved filters per user; bad values
refused in Chinese naming the field; exports honour the filters."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.models import AuditLog, HumanTask, Instance, SavedFilter, utcnow
from workflows import engine

from .conftest import Api
from .flows import transfer_data
from .world import build_world


def _text(resp) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def _transfer(world, name: str, sender="P1", taker="P3", grade=4, due_in_days=None):
    """A transfer to `taker` of a pupil called `name`: a step in 高港区's inbox."""
    student = world.student(sender, grade=grade, name=name)
    instance = engine.start("transfer", world.users[taker], transfer_data(student, taker))
    (task,) = engine.open_tasks(instance)
    task.due_at = None if due_in_days is None else utcnow() + timedelta(days=due_in_days)
    db.session.commit()
    return task


@pytest.fixture
def desk(world):
    """高港区 (u321203) has four transfer reviews: 甲 three days overdue, 乙 due in five
    days, 丙 with no due date, 丁 (into 高港中学, J2) due tomorrow."""
    return {
        "甲": _transfer(world, "周甲明", due_in_days=-3),
        "乙": _transfer(world, "吴乙华", due_in_days=5),
        "丙": _transfer(world, "郑丙强", due_in_days=None),
        "丁": _transfer(world, "王丁宁", sender="J1", taker="J2", grade=7, due_in_days=1),
    }


def _names(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_json()
    return [item.get("student_name") or item["name"] for item in resp.get_json()["items"]]


# -- the inbox ------------------------------------------------------------------------------


def test_the_inbox_puts_the_most_overdue_first_and_tasks_without_a_due_date_last(api, login, desk):
    assert _names(api("u321203").get("/api/v1/tasks")) == ["周甲明", "王丁宁", "吴乙华", "郑丙强"]
    # -due reads the inbox index backwards: no due date counts as the latest
    assert _names(api("u321203").get("/api/v1/tasks?sort=-due")) == [
        "郑丙强", "吴乙华", "王丁宁", "周甲明",
    ]  # fmt: skip
    assert _names(api("u321203").get("/api/v1/tasks?sort=-created"))[0] == "王丁宁"
    page = _text(login("u321203").get("/"))
    assert page.index("周甲明") < page.index("王丁宁") < page.index("吴乙华") < page.index("郑丙强")
    # Counts per procedure, above the list.
    assert "按业务类型： 转学 4" in page


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("q=周甲明", {"周甲明"}, {"吴乙华", "王丁宁"}),
        ("q=乙华", {"吴乙华"}, {"周甲明"}),
        ("school=J2", {"王丁宁"}, {"周甲明", "吴乙华"}),
        ("school=P3", {"周甲明", "吴乙华", "郑丙强"}, {"王丁宁"}),
        ("overdue=1", {"周甲明"}, {"王丁宁", "吴乙华", "郑丙强"}),
        ("procedure=transfer", {"周甲明", "王丁宁"}, set()),
        ("procedure=suspension", set(), {"周甲明", "王丁宁"}),
    ],
)
def test_each_inbox_filter_keeps_its_tasks_through_the_api_and_the_page(
    api, login, desk, query, present, absent
):
    names = set(_names(api("u321203").get(f"/api/v1/tasks?{query}")))
    assert present <= names and not absent & names
    page = _text(login("u321203").get(f"/?{query}"))
    assert all(n in page for n in present) and not any(n in page for n in absent)


def test_the_inbox_filters_by_id_number_step_due_date_and_claim(api, world, desk):
    tasks = api("u321203")
    id_number = desk["乙"].instance.student.id_number
    assert _names(tasks.get(f"/api/v1/tasks?q={id_number[:12]}")) == ["吴乙华"]
    step = desk["甲"].step
    assert len(_names(tasks.get(f"/api/v1/tasks?step={step}"))) == 4
    assert _names(tasks.get("/api/v1/tasks?step=no_such_step")) == []
    tomorrow = (datetime.now() + timedelta(days=2)).date().isoformat()
    assert _names(tasks.get(f"/api/v1/tasks?due_before={tomorrow}")) == ["周甲明", "王丁宁"]
    engine.claim(desk["乙"].id, world.users["321203"])
    db.session.commit()
    assert _names(tasks.get("/api/v1/tasks?claimed=me")) == ["吴乙华"]
    assert "吴乙华" not in _names(tasks.get("/api/v1/tasks?claimed=none"))
    assert len(_names(tasks.get("/api/v1/tasks?claimed=none"))) == 3


def test_a_school_outside_reach_filters_to_nothing_as_an_unknown_one_does(api, login, desk):
    # 海陵实验小学 (P1) sends 甲: it exists, but lies outside 高港区's reach.
    for code in ("P1", "P4", "NOPE"):
        assert _names(api("u321203").get(f"/api/v1/tasks?school={code}")) == []
        assert _names(api("u321203").get(f"/api/v1/instances?school={code}")) == []
        assert "没有符合筛选条件的待办任务" in _text(login("u321203").get(f"/?school={code}"))
    assert _names(api("u321203").get("/api/v1/instances?school=J2")) == ["王丁宁"]


# -- 业务查询 ----------------------------------------------------------------------------------


def test_instances_filter_by_procedure_status_school_student_and_china_dates(api, login, desk):
    # 甲 started on 2026-01-05 in China; 乙 at 01:00 on 1 February in China (the 31st in UTC).
    desk["甲"].instance.created_at = datetime(2026, 1, 5, 2, 0)
    desk["乙"].instance.created_at = datetime(2026, 1, 31, 17, 0)
    db.session.commit()
    county = api("u321203")
    january = "since=2026-01-01&until=2026-01-31"
    assert _names(county.get(f"/api/v1/instances?{january}")) == ["周甲明"]
    assert _names(county.get("/api/v1/instances?since=2026-02-01&until=2026-02-01")) == ["吴乙华"]
    assert set(_names(county.get("/api/v1/instances?procedure=transfer&status=running"))) == {
        "周甲明", "吴乙华", "郑丙强", "王丁宁",
    }  # fmt: skip
    assert _names(county.get("/api/v1/instances?status=completed")) == []
    assert _names(county.get("/api/v1/instances?q=郑丙强")) == ["郑丙强"]
    page = _text(login("u321203").get(f"/instances?{january}"))
    assert "周甲明" in page and "吴乙华" not in page


# -- the student list -----------------------------------------------------------------------


def test_students_filter_by_grade_class_and_status(api, login, world):
    world.student("P3", grade=3, class_name="2", name="陈三二")
    world.student("P3", grade=3, class_name="1", name="林三一")
    world.student("P3", grade=5, class_name="2", name="黄五二", status="suspended")
    school = api("uP3")
    assert set(_names(school.get("/api/v1/students?grade=3"))) == {"陈三二", "林三一"}
    assert _names(school.get("/api/v1/students?grade=3&class_name=2")) == ["陈三二"]
    assert _names(school.get("/api/v1/students?status=suspended")) == ["黄五二"]
    page = _text(login("uP3").get("/students?grade=3&class_name=2"))
    assert "陈三二" in page and "林三一" not in page and "黄五二" not in page


# -- bad values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field", "words"),
    [
        ("/api/v1/tasks?sort=oldest", "sort", "排序须为"),
        ("/api/v1/tasks?overdue=maybe", "overdue", "只看已逾期"),
        ("/api/v1/tasks?claimed=you", "claimed", "认领情况"),
        ("/api/v1/tasks?due_before=2026-02-30", "due_before", "办理期限须为"),
        ("/api/v1/instances?since=2026/01/01", "since", "发起日期起须为"),
        ("/api/v1/instances?until=0001-01-01", "until", "发起日期止须为"),
        ("/api/v1/students?grade=abc", "grade", "年级须为"),
        ("/api/v1/students?status=expelled", "status", "学籍状态不存在"),
    ],
)
def test_a_bad_filter_is_refused_in_chinese_naming_the_field(api, world, url, field, words):
    resp = api("u321203").get(url)
    assert resp.status_code == 422, resp.get_json()
    assert words in resp.get_json()["error"]["fields"][field][0]
    good = url.split("?")[0]
    assert api("u321203").get(good).status_code == 200


def test_a_page_refuses_a_bad_filter_with_a_400_in_chinese(login, world):
    client = login("uP3")
    for url, words in [("/students?grade=abc", "年级须为"), ("/?sort=x", "排序须为")]:
        resp = client.get(url)
        assert resp.status_code == 400 and words in _text(resp)
        assert "sort" not in _text(resp).split("筛选条件有误")[1]
    assert client.get("/students?grade=3").status_code == 200
    assert client.get("/?sort=due&grade=").status_code == 200


# -- exports --------------------------------------------------------------------------------


def test_a_filtered_export_holds_only_the_filtered_rows(api, login, desk):
    resp = api("u321203").get("/api/v1/tasks?format=csv&school=J2")
    body = resp.get_data().decode("utf-8-sig")
    assert resp.status_code == 200 and "王丁宁" in body and "周甲明" not in body
    resp = login("u321203").get("/?format=csv&overdue=1")
    body = resp.get_data().decode("utf-8-sig")
    assert "周甲明" in body and "吴乙华" not in body
    entry = AuditLog.query.filter_by(action="export").order_by(AuditLog.id.desc()).first()
    assert entry.after["overdue"] is True


# -- saved filters --------------------------------------------------------------------------


def test_saved_filters_are_saved_applied_deleted_and_each_users_own(login, world, client):
    world.student("P3", grade=3, name="陈三三")
    world.student("P3", grade=5, name="黄五五")
    school = login("uP3")
    resp = school.post(
        "/filters", data={"page": "students", "name": "我的甲班", "query": "grade=3&page=2"}
    )
    assert resp.status_code == 302 and resp.location.endswith("/students?grade=3")
    page = school.get("/students").get_data(as_text=True)
    link = re.search(r'class="saved-filter" href="([^"]+)">我的甲班<', page).group(1)
    applied = _text(school.get(link.replace("&amp;", "&")))
    assert "陈三三" in applied and "黄五五" not in applied
    saved = SavedFilter.query.filter_by(name="我的甲班").one()
    assert AuditLog.query.filter_by(action="save_filter", object_id=str(saved.id)).count() == 1

    # No name, or a name over 32 characters: refused in Chinese, nothing kept.
    for name, words in [("", "请填写筛选名称"), ("名" * 33, "不能超过 32 个字")]:
        resp = school.post(
            "/filters", data={"page": "students", "name": name, "query": "grade=5"},
            follow_redirects=True,
        )  # fmt: skip
        assert words in _text(resp)
    assert SavedFilter.query.count() == 1

    # Another user sees none of it and cannot delete it.
    other = login("uP1")
    assert "我的甲班" not in _text(other.get("/students"))
    assert other.post(f"/filters/{saved.id}/delete").status_code == 404
    assert db.session.get(SavedFilter, saved.id) is not None

    school = login("uP3")
    assert school.post(f"/filters/{saved.id}/delete").status_code == 302
    assert SavedFilter.query.count() == 0
    assert AuditLog.query.filter_by(action="delete_filter").count() == 1
    assert "已删除筛选“我的甲班”" in _text(school.get("/students"))  # the flash, once
    assert 'class="saved-filter"' not in school.get("/students").get_data(as_text=True)


def test_the_inbox_and_instances_pages_offer_saving_their_filters(login, desk):
    client = login("u321203")
    for url, page in [("/?overdue=1", "inbox"), ("/instances?procedure=transfer", "instances")]:
        html = client.get(url).get_data(as_text=True)
        assert "保存当前筛选" in html and f'name="page" value="{page}"' in html
        query = url.split("?")[1]
        resp = client.post("/filters", data={"page": page, "name": "我的", "query": query})
        assert resp.status_code == 302
        assert 'class="saved-filter"' in client.get(url.split("?")[0]).get_data(as_text=True)
    assert HumanTask.query.count() == 4 and Instance.query.count() == 4


# -- on PostgreSQL (the indexes' own forms: NULLS LAST, reversed names, trigrams) ------------


@pytest.mark.postgres
def test_the_inbox_filters_and_sorts_the_same_on_postgres(pg_app):
    world = build_world()
    db.session.commit()
    desk = {
        "甲": _transfer(world, "周甲明", due_in_days=-3),
        "乙": _transfer(world, "吴乙华", due_in_days=5),
        "丙": _transfer(world, "郑丙强", due_in_days=None),
    }
    county = Api(pg_app.test_client(), "u321203")
    assert _names(county.get("/api/v1/tasks")) == ["周甲明", "吴乙华", "郑丙强"]
    assert _names(county.get("/api/v1/tasks?q=乙华")) == ["吴乙华"]
    assert _names(county.get("/api/v1/tasks?q=周甲明&overdue=1")) == ["周甲明"]
    assert _names(county.get("/api/v1/instances?q=郑丙强")) == ["郑丙强"]
    assert desk["丙"].due_at is None
