"""At 390×844 (a phone) no page of the main flows is wider than the screen, the navigation
folds behind 菜单, lists are cards that name each column, and the task form comes before the
diagram."""

from __future__ import annotations

import pytest

from .desk_pages import desk_pages, look_at_desk_pages
from .test_browser import Person, browser, expect, server  # noqa: F401  (fixtures)
from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)

PHONE = {"width": 390, "height": 844}


def on_phone(browser, server, username: str) -> Person:  # noqa: F811
    person = Person(browser, server, username)
    person.page.set_viewport_size(PHONE)
    return person


def page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def too_wide_or_misplaced(desk, page) -> str:
    """What is wrong with the page on a phone: wider than the screen, or (a task page) the
    diagram above the form."""
    scroll_width, _ = page_width(page)
    if scroll_width > PHONE["width"]:
        return f"{scroll_width} px"
    form, diagram = page.locator(".form-card"), page.locator("#diagram")
    if form.count() and diagram.count():
        form_box, diagram_box = form.first.bounding_box(), diagram.bounding_box()
        if form_box["y"] + form_box["height"] > diagram_box["y"]:
            return "任务表单在流程图下方"
    return ""


@pytest.mark.browser
def test_no_page_of_the_main_flows_is_wider_than_a_phone(server, browser, csrf_world):  # noqa: F811
    assert look_at_desk_pages(browser, server, csrf_world, too_wide_or_misplaced, PHONE) == {}


@pytest.mark.browser
def test_on_a_phone_the_task_form_comes_before_the_diagram(server, browser, csrf_world):  # noqa: F811
    task_page = next(d for d in desk_pages(csrf_world) if d.name == "任务办理")
    county = on_phone(browser, server, task_page.username)
    page = county.page
    page.goto(server + task_page.path)
    expect(page.locator("#diagram[data-ready=true]")).to_have_count(1)
    form = page.locator(".form-card").bounding_box()
    diagram = page.locator("#diagram").bounding_box()
    history = page.locator("section", has_text="办理记录").last.bounding_box()
    assert form["y"] + form["height"] <= diagram["y"] <= history["y"]
    assert diagram["width"] <= PHONE["width"]
    # the control: on a wide screen the form stands beside the application, not below it
    page.set_viewport_size({"width": 1280, "height": 900})
    form = page.locator(".form-card").bounding_box()
    info = page.locator(".task-info").bounding_box()
    assert form["x"] > info["x"] + info["width"] and form["y"] == pytest.approx(info["y"], abs=2)
    county.close()


@pytest.mark.browser
def test_the_menu_button_folds_the_navigation(server, browser, csrf_world):  # noqa: F811
    school = on_phone(browser, server, "uP3")
    page = school.page
    page.goto(f"{server}/students")
    toggle = page.get_by_role("button", name="菜单")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#mainnav")).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#mainnav a", has_text="批量导入")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(page.locator("#mainnav")).to_be_hidden()
    expect(toggle).to_be_focused()
    # on a wide screen there is no button: the links are in view
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(toggle).to_be_hidden()
    expect(page.locator("#mainnav a", has_text="批量导入")).to_be_visible()
    school.close()


@pytest.mark.browser
def test_on_a_phone_a_list_is_cards_naming_each_column(server, browser, csrf_world):  # noqa: F811
    desk_pages(csrf_world)
    county = on_phone(browser, server, "u321203")
    page = county.page
    row = page.locator("table.inbox tbody tr", has_text="赵小红")
    step = row.locator("td[data-label=当前步骤]")
    expect(step).to_contain_text("转入地县级教育行政部门审核")
    label = step.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"当前步骤"'
    assert row.bounding_box()["width"] <= PHONE["width"]
    county.close()
