"""The diagram, readable: zoom, fit to the panel, full screen; the path taken marked on the
sequence flows too; automatic steps apart from a person's; a finished case opens on its end."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from workflows import engine

from .flows import approve_all, transfer_data
from .test_browser import (  # noqa: F401  (fixtures)
    Person,
    browser,
    element,
    expect,
    has_marker,
    server,
    wait_for_diagram,
)
from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)


def transfer(world, finished: bool) -> int:
    student = world.student("P1", grade=4, name="吴小丽")
    db.session.commit()
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    if finished:
        approve_all(world, instance)
    db.session.commit()
    return instance.id


def canvas_width(page) -> float:
    return page.locator("#diagram > .diagram-scroll .diagram-canvas").bounding_box()["width"]


@pytest.mark.browser
def test_the_path_taken_and_automatic_steps_are_marked(server, browser, csrf_world):  # noqa: F811
    instance_id = transfer(csrf_world, finished=False)
    school = Person(browser, server, "uP3")
    page = school.page
    page.goto(f"{server}/instances/{instance_id}")
    wait_for_diagram(page)
    for flow in ("f_start", "f_check", "f_check_ok"):
        expect(element(page, flow)).to_have_class(has_marker("taken"))
    expect(element(page, "f_check_fail")).not_to_have_class(has_marker("taken"))
    expect(element(page, "check_rules")).to_have_class(has_marker("automatic"))
    expect(element(page, "to_county_review")).not_to_have_class(has_marker("automatic"))
    legend = page.locator("#diagram .diagram-legend")
    expect(legend).to_contain_text("系统自动办理")
    expect(legend).to_contain_text("已走过的路径")
    # a label is readable as drawn: at least 10 px high on the screen
    label = element(page, "to_county_review").locator("text tspan").first
    assert label.bounding_box()["height"] >= 10
    school.close()


@pytest.mark.browser
def test_zoom_fit_and_full_screen_buttons(server, browser, csrf_world):  # noqa: F811
    instance_id = transfer(csrf_world, finished=False)
    school = Person(browser, server, "uP3")
    page = school.page
    page.goto(f"{server}/instances/{instance_id}")
    wait_for_diagram(page)
    opened = canvas_width(page)
    page.get_by_role("button", name="放大流程图").click()
    assert canvas_width(page) > opened
    page.get_by_role("button", name="缩小流程图").click()
    page.get_by_role("button", name="缩小流程图").click()
    assert canvas_width(page) < opened
    page.get_by_role("button", name="流程图适应面板宽度").click()
    panel = page.locator("#diagram > .diagram-scroll").bounding_box()
    assert canvas_width(page) <= panel["width"]
    page.get_by_role("button", name="全屏查看流程图").click()
    assert page.wait_for_function("document.fullscreenElement?.id === 'diagram'")
    expect(page.get_by_role("button", name="退出全屏")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="退出全屏").click()
    assert page.wait_for_function("document.fullscreenElement === null")
    expect(page.get_by_role("button", name="全屏查看流程图")).to_be_visible()
    school.close()


@pytest.mark.browser
def test_a_finished_case_opens_on_its_end(server, browser, csrf_world):  # noqa: F811
    instance_id = transfer(csrf_world, finished=True)
    school = Person(browser, server, "uP3")
    page = school.page
    page.set_viewport_size({"width": 390, "height": 844})  # narrow: the drawing scrolls
    page.goto(f"{server}/instances/{instance_id}")
    wait_for_diagram(page)
    expect(element(page, "end_completed")).to_have_class(has_marker("done"))
    expect(element(page, "f_check_ok")).to_have_class(has_marker("taken"))
    scroller = page.locator("#diagram > .diagram-scroll")
    assert scroller.evaluate("box => box.scrollLeft") > 0
    view = scroller.bounding_box()
    end = element(page, "end_completed").bounding_box()
    assert view["x"] <= end["x"] and end["x"] + end["width"] <= view["x"] + view["width"]
    # the control: the start, far to the left, is out of view
    start = element(page, "start").bounding_box()
    assert start["x"] + start["width"] < view["x"]
    school.close()
