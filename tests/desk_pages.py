"""The main flows' pages for the phone-width and accessibility checks in Chromium, each with
who opens it and what it must show (so a check never passes on an error page), and the one
signed-in loop that opens them.

The cases: transfers waiting at the receiving county (one overdue, two picked for a batch,
one claimed by a colleague), a transfer gone on to an overdue school step, a graduation
roster at the county's review, a pupil of the receiving school with a record and a start
form, a saved inbox filter; then the administrator's pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from webapp.extensions import db
from webapp.models import SavedFilter, utcnow
from workflows import engine

from .flows import transfer_data
from .test_browser import Person, expect
from .test_graduation import graduate_compulsory


@dataclass
class DeskPage:
    name: str
    username: str
    path: str
    shows: str  # text the page must show before it is looked at
    diagram: bool = False  # wait for the diagram to be drawn before looking
    act: Callable | None = None  # what the user does on the page first (given the page)


def transfer_task(world, school: str, name: str):
    """A transfer from `school` to P3, waiting at 321203's review: its one open task."""
    student = world.student(school, grade=4, name=name)
    db.session.commit()
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    (task,) = engine.open_tasks(instance)
    return task


def overdue(task) -> None:
    task.due_at = utcnow() - timedelta(days=3)


def _submit_batch(page) -> None:
    page.check("input[name=decision][value=approve]")
    page.fill("#f-comment", "材料齐全，同意。")
    page.click("button:has-text('提交')")


def desk_pages(world) -> list[DeskPage]:
    """Builds the cases and lists the pages: the counties' desks, the city's, the school's,
    the administrator's."""
    task = transfer_task(world, "P1", "赵小红")
    overdue(task)  # the city's 逾期督办 lists it
    picked = [transfer_task(world, "P2", name).id for name in ("钱小明", "周小军")]
    colleague = world.user("u321203b", "321203", "county")
    held = transfer_task(world, "P1", "吴小丽")
    engine.claim(held.id, colleague)  # the batch reports it refused
    gone_on = transfer_task(world, "P2", "郑小梅")
    engine.complete(gone_on.id, world.users["321203"], {"decision": "approve"})
    (school_step,) = engine.open_tasks(gone_on.instance)
    overdue(school_step)  # the sending county's 逾期督办 lists it
    pupil = world.student("P3", grade=3, name="孙小兰")
    for _ in range(3):
        graduate_compulsory(world)
    graduate_compulsory(world, 数学="core")
    cohort = engine.start(
        "graduation", world.users["J1"], {"school_code": "J1", "entry_year": 2024}
    )
    (review,) = engine.open_tasks(cohort)
    inbox_filter = "procedure=transfer&overdue=1"
    county = world.users["321203"]
    db.session.add(
        SavedFilter(user_id=county.id, page="inbox", name="逾期转学", query_string=inbox_filter)
    )
    db.session.commit()
    batch = "/tasks/batch?" + "&".join(f"task_ids={i}" for i in (*picked, held.id))
    return [
        DeskPage("待办任务", "u321203", "/", "批量办理勾选的任务"),
        DeskPage("待办任务（筛选）", "u321203", f"/?{inbox_filter}", "逾期转学"),
        DeskPage("任务办理", "u321203", f"/tasks/{task.id}", "办理记录", diagram=True),
        DeskPage("业务详情", "u321203", f"/instances/{task.instance_id}", "赵小红", diagram=True),
        DeskPage("批量办理", "u321203", batch, "提交 3 项"),
        DeskPage("批量办理结果", "u321203", batch, "未办理 1 项", act=_submit_batch),
        DeskPage("毕业名册审核", "u321202", f"/tasks/{review.id}", "查看名册", diagram=True),
        DeskPage("毕业名册", "u321202", f"/instances/{cohort.id}/roster", "批量修改勾选的学生"),
        DeskPage("逾期督办（县级）", "u321202", "/overdue", "郑小梅"),
        DeskPage("逾期督办（市级）", "u3212", "/overdue", "赵小红"),
        DeskPage("业务查询", "uP3", "/instances", "业务查询"),
        DeskPage("学生学籍", "uP3", "/students", "孙小兰"),
        DeskPage("学籍档案", "uP3", f"/students/{pupil.id}", "可发起的业务"),
        DeskPage("发起休学", "uP3", f"/students/{pupil.id}/start/suspension", "休学"),
        DeskPage("批量导入", "uP3", "/imports", "批量导入"),
        DeskPage("用户管理", "admin", "/admin/users", "u321203b"),
        DeskPage("审计日志", "admin", "/admin/audit", "审计"),
        DeskPage("流程模型", "admin", "/admin/models", "transfer"),
        DeskPage("流程变体", "admin", "/admin/variants", "变体"),
        DeskPage("规则", "admin", "/admin/rules", "规则"),
    ]


def look_at_desk_pages(browser, server: str, world, look, viewport=None) -> dict[str, object]:
    """Opens every desk page signed in as its user (one window each, at `viewport` if
    given) and gives it to `look(desk, page)`; what `look` returns, by page, where truthy."""
    people: dict[str, Person] = {}
    found: dict[str, object] = {}
    for desk in desk_pages(world):
        if desk.username not in people:
            people[desk.username] = Person(browser, server, desk.username)
            if viewport:
                people[desk.username].page.set_viewport_size(viewport)
        page = people[desk.username].page
        page.goto(server + desk.path)
        if desk.act:
            desk.act(page)
        expect(page.locator("body")).to_contain_text(desk.shows)
        if desk.diagram:
            expect(page.locator("#diagram[data-ready=true]")).to_have_count(1)
        if result := look(desk, page):
            found[f"{desk.name} {desk.path}"] = result
    for person in people.values():
        person.close()
    return found
