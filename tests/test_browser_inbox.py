"""The county's inbox in Chromium as its user works it: the filter form narrows the rows
(the counts per procedure stay those of the whole inbox), a filter saved and applied again
after a reload; several tasks of one step ticked, confirmed and approved with one comment,
then the report per task, one of them refused because a colleague finished it meanwhile."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.models import HumanTask
from workflows import engine

from .desk_pages import overdue, transfer_task
from .test_browser import Person, browser, expect, server  # noqa: F401  (fixtures)
from .test_suspension import decide, second_user, start
from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)


def county_inbox(world) -> dict[str, int]:
    """Three transfers (赵小红's overdue) and a suspension at 321203's review: task id by
    student name."""
    tasks = {name: transfer_task(world, "P1", name) for name in ("赵小红", "钱小明", "周小军")}
    overdue(tasks["赵小红"])
    second_user(world, "P3")
    suspension = decide(world, start(world, world.student("P3", grade=5, name="孙小兰")))
    (tasks["孙小兰"],) = engine.open_tasks(suspension)
    db.session.commit()
    return {name: task.id for name, task in tasks.items()}


def shows(page, *names: str) -> None:
    """The inbox lists these students' rows and no other (waiting for the page to load)."""
    rows = page.locator("table.inbox tbody tr")
    for name in names:
        expect(rows.filter(has_text=name)).to_have_count(1)
    expect(rows).to_have_count(len(names))


def counts(page) -> list[str]:
    return page.locator(".procedure-count").all_inner_texts()


@pytest.mark.browser
def test_the_inbox_filters_narrow_the_rows_and_a_saved_filter_applies_again(
    server,  # noqa: F811
    browser,  # noqa: F811
    csrf_world,  # noqa: F811
):
    county_inbox(csrf_world)
    county = Person(browser, server, "u321203")
    page = county.page
    shows(page, "赵小红", "钱小明", "周小军", "孙小兰")
    assert counts(page) == ["休学 1", "转学 3"]
    page.select_option("#f-procedure", label="转学")
    page.click("button:has-text('筛选')")
    shows(page, "赵小红", "钱小明", "周小军")
    page.fill("#f-q", "钱小明")
    page.click("button:has-text('筛选')")
    shows(page, "钱小明")
    page.fill("#f-q", "")
    page.check("input[name=overdue]")
    page.click("button:has-text('筛选')")
    shows(page, "赵小红")
    expect(page.locator("table.inbox tbody tr")).to_contain_text("已逾期")
    assert counts(page) == ["休学 1", "转学 3"]  # the whole inbox's, whatever the filter
    page.fill("#saved-filter-name", "逾期转学")
    page.click("button:has-text('保存当前筛选')")
    expect(page.locator(".flash-success")).to_contain_text("已保存筛选“逾期转学”")

    page.goto(f"{server}/")
    shows(page, "赵小红", "钱小明", "周小军", "孙小兰")
    expect(page.locator("input[name=overdue]")).not_to_be_checked()
    page.click("a.saved-filter:has-text('逾期转学')")
    shows(page, "赵小红")
    expect(page.locator("#f-procedure")).to_have_value("transfer")
    expect(page.locator("input[name=overdue]")).to_be_checked()
    # a count is a filter too: 休学 alone
    page.click(".procedure-count:has-text('休学')")
    shows(page, "孙小兰")
    county.close()


def tick_and_open_batch(page, names: list[str]) -> None:
    """Ticks the students' rows on the inbox and opens the batch page."""
    for name in names:
        page.locator("table.inbox tbody tr", has_text=name).locator("input[name=task_ids]").check()
    page.click("button:has-text('批量办理勾选的任务')")
    expect(page.locator("h1")).to_contain_text("批量办理：转学")
    expect(page.locator("#batch-tasks tbody tr")).to_have_count(len(names))


def submit_batch(person: Person, comment: str) -> None:
    page = person.page
    page.check("input[name=decision][value=approve]")
    page.fill("#f-comment", comment)
    page.click("button:has-text('提交 2 项')")
    expect(page.locator("h1")).to_have_text("批量办理结果")
    assert person.confirmations == ["确认以同一意见提交这 2 项任务（同意）？提交后不能撤回。"]


def report_line(page, name: str):
    return page.locator("#batch-report tbody tr", has_text=name)


@pytest.mark.browser
def test_two_tasks_of_one_step_approved_in_one_go(server, browser, csrf_world):  # noqa: F811
    ids = county_inbox(csrf_world)
    county = Person(browser, server, "u321203")
    page = county.page
    tick_and_open_batch(page, ["钱小明", "周小军"])
    assert county.confirmations == []  # nothing asked, nothing done, by looking
    submit_batch(county, "材料齐全，同意接收。")
    expect(page.locator("#batch-summary")).to_have_text("共 2 项：已办理 2 项，未办理 0 项。")
    for name in ("钱小明", "周小军"):
        expect(report_line(page, name)).to_contain_text("已办理")
    page.click("a:has-text('返回待办')")
    shows(page, "赵小红", "孙小兰")
    county.close()
    db.session.expire_all()
    for name in ("钱小明", "周小军"):
        task = db.session.get(HumanTask, ids[name])
        assert task.state == "completed" and task.completed_by.username == "u321203"
        assert task.instance.events[-1].comment == "材料齐全，同意接收。"


@pytest.mark.browser
def test_a_task_a_colleague_finished_meanwhile_is_reported_refused(server, browser, csrf_world):  # noqa: F811
    ids = county_inbox(csrf_world)
    colleague = csrf_world.user("u321203b", "321203", "county")
    db.session.commit()
    county = Person(browser, server, "u321203")
    page = county.page
    tick_and_open_batch(page, ["钱小明", "周小军"])
    # between the confirmation page and the submit, a colleague finishes 周小军's task
    engine.complete(ids["周小军"], colleague, {"decision": "approve"})
    db.session.commit()
    submit_batch(county, "同意。")
    expect(page.locator("#batch-summary")).to_have_text("共 2 项：已办理 1 项，未办理 1 项。")
    expect(report_line(page, "钱小明")).to_contain_text("已办理")
    refused = report_line(page, "周小军")
    expect(refused).to_contain_text("未办理")
    expect(refused).to_contain_text("该任务已办理完毕")
    county.close()
    db.session.expire_all()
    assert db.session.get(HumanTask, ids["周小军"]).completed_by.username == "u321203b"
    assert db.session.get(HumanTask, ids["钱小明"]).completed_by.username == "u321203"
