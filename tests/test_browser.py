"""A whole transfer in real Chromium: every user signs in on the login page and clicks through."""

from __future__ import annotations

import threading

import pytest
from playwright import sync_api as playwright_sync
from werkzeug.serving import make_server

from webapp.extensions import db
from webapp.models import Instance, Student
from workflows.errors import Refused

from .test_web import csrf_app, csrf_world  # noqa: F401  (fixtures: the app with CSRF on)
from .world import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = "/tmp/xueji_task_page.png"
# The bench runs every scenario in a sandbox: on a busy machine that takes more than the
# default five seconds.
BENCH_WAIT = 60_000


@pytest.fixture
def server(csrf_app):  # noqa: F811
    """The CSRF-protected app served on a free local port from a background thread."""
    srv = make_server("127.0.0.1", 0, csrf_app)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    with playwright_sync.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


class Person:
    """One user in a browser window of their own."""

    def __init__(self, browser, base: str, username: str):
        self.base = base
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.confirmations: list[str] = []
        self.page.on("dialog", self._accept)
        self.refused: list[str] = []  # what the Content-Security-Policy blocked
        self.page.on("console", self._note_refusal)
        self.page.goto(f"{base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button:has-text('登录')")
        expect(self.page.locator(".whoami .user")).to_have_text(username)

    def _accept(self, dialog) -> None:
        self.confirmations.append(dialog.message)
        dialog.accept()

    def _note_refusal(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.refused.append(message.text)

    def close(self) -> None:
        self.context.close()
        assert self.refused == [], self.refused  # every page works without inline script


def expect(locator):
    return playwright_sync.expect(locator)


@pytest.mark.browser
def test_whole_transfer_in_chromium(server, browser, csrf_world):  # noqa: F811
    student = csrf_world.student("P1", grade=4, name="赵小红")
    db.session.commit()
    id_number, student_id = student.id_number, student.id

    school = Person(browser, server, "uP3")
    page = school.page
    page.click("nav >> text=发起转学")
    expect(page.locator(".fixed")).to_contain_text("高港实验小学（P3）")
    page.fill("#f-id_number", id_number)
    page.fill("#f-name", "赵小红")
    page.select_option("#f-to_grade", "4")
    page.fill("#f-to_class_name", "2")
    page.select_option("#f-reason", "household_move")
    page.fill("#f-note", "随父母迁居高港区")
    page.click("button:has-text('提交转学申请')")
    expect(page.locator(".flash-success")).to_contain_text("自动检查通过")
    expect(page.locator(".status").first).to_have_text("办理中")
    school.close()

    for username, step in (
        ("u321203", "转入地县级教育行政部门审核"),
        ("uP1", "转出学校审核"),
        ("u321202", "转出地县级教育行政部门审核"),
    ):
        reviewer = Person(browser, server, username)
        page = reviewer.page
        row = page.locator("table.inbox tbody tr", has_text="赵小红")
        expect(row).to_contain_text(step)
        row.locator("a.task-link").click()
        expect(page.locator("h1")).to_have_text(step)
        expect(page.locator("table.kv")).to_contain_text(id_number)
        if username == "uP1":
            page.screenshot(path=SCREENSHOT, full_page=True)
        page.check("input[name=decision][value=approve]")
        page.fill("#f-comment", "材料齐全，同意。")
        page.click("button:has-text('提交')")
        expect(page.locator(".flash-success")).to_contain_text(f"“{step}”已提交")
        assert reviewer.confirmations == ["确认同意并提交？提交后不能撤回。"]
        expect(page.locator("table.inbox tbody tr", has_text="赵小红")).to_have_count(0)
        reviewer.close()

    school = Person(browser, server, "uP3")
    page = school.page
    page.click("nav >> text=学生学籍")
    page.fill("#q", "赵小红")
    page.click("button:has-text('搜索')")
    page.click("table.list >> text=赵小红")
    expect(page.locator("#student-school")).to_have_text("高港实验小学")
    expect(page.locator("body")).to_contain_text("学校：海陵实验小学 → 高港实验小学")
    school.close()

    db.session.expire_all()
    instance = Instance.query.filter_by(student_id=student_id).one()
    assert instance.status == "completed"
    assert db.session.get(Student, student_id).school.code == "P3"


PDF = b"%PDF-1.4\n%xueji test\n%%EOF\n"


def upload_file(page, selector: str, name: str) -> None:
    page.set_input_files(
        selector, files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}]
    )


def open_task(person: Person, student_name: str, step: str):
    page = person.page
    row = page.locator("table.inbox tbody tr", has_text=student_name)
    expect(row).to_contain_text(step)
    row.locator("a.task-link").click()
    expect(page.locator("h1")).to_have_text(step)
    return page


@pytest.mark.browser
def test_whole_suspension_in_chromium(server, browser, csrf_world):  # noqa: F811
    """Entry with a scan, four-eyes school review, a county re-examination, the status change."""
    student = csrf_world.student("P1", grade=3, name="钱小明")
    db.session.commit()
    student_id = student.id

    school = Person(browser, server, "uP1")
    page = school.page
    page.goto(f"{server}/students/{student_id}")
    page.click("text=可发起的业务 >> xpath=.. >> a:has-text('休学')")
    expect(page.locator("h1")).to_have_text("休学申请")
    page.select_option("#f-reason", "illness")
    page.fill("#f-absence_hours", "230")
    page.fill("#f-start_date", "2026-09-07")
    page.fill("#f-note", "肺炎住院治疗")
    upload_file(page, "#f-evidence", "诊断证明.pdf")
    page.click("button:has-text('提交休学申请')")
    expect(page.locator(".flash-success")).to_contain_text("自动检查通过")
    # The registrar who entered it cannot also pass the school review, and is told so up
    # front: the step is marked 需他人审核 and its form cannot be submitted.
    page.goto(f"{server}/")
    page = open_task(school, "钱小明", "学校初审（录入人以外的人员）")
    expect(page.locator("#four-eyes")).to_contain_text("四眼原则")
    expect(page.locator("input[name=decision][value=approve]")).to_be_disabled()
    expect(page.locator("button:has-text('提交')")).to_have_count(0)
    school.close()

    colleague = Person(browser, server, "uP1b")
    page = open_task(colleague, "钱小明", "学校初审（录入人以外的人员）")
    page.check("input[name=decision][value=approve]")
    page.click("button:has-text('提交')")
    expect(page.locator(".flash-success")).to_contain_text("已提交")
    colleague.close()

    county = Person(browser, server, "u321202")
    page = open_task(county, "钱小明", "县级教育行政部门审核")
    expect(page.locator("body")).to_contain_text("诊断证明.pdf")
    page.check("input[name=decision][value=reexamine]")
    page.fill("#f-comment", "请到泰州市人民医院复查")
    page.click("button:has-text('提交')")
    expect(page.locator(".flash-success")).to_contain_text("已提交")
    assert county.confirmations == ["确认要求学校到指定医院复查？"]

    school = Person(browser, server, "uP1")
    page = open_task(school, "钱小明", "学校上传指定医院复查材料")
    upload_file(page, "#f-evidence", "复查报告.pdf")
    page.fill("#f-note", "复查结果：仍需休养")
    page.click("button:has-text('提交')")
    expect(page.locator(".flash-success")).to_contain_text("已提交")
    school.close()

    page = county.page
    page.goto(f"{server}/")
    page = open_task(county, "钱小明", "县级教育行政部门审核")
    expect(page.locator("body")).to_contain_text("复查报告.pdf")
    page.check("input[name=decision][value=approve]")
    page.click("button:has-text('提交')")
    expect(page.locator(".flash-success")).to_contain_text("已提交")
    county.close()

    school = Person(browser, server, "uP1")
    page = school.page
    page.goto(f"{server}/students/{student_id}")
    expect(page.locator("body")).to_contain_text("休学（休学至 2027-09-07）")
    expect(page.locator("body")).to_contain_text("休学证明")
    expect(page.locator("body")).to_contain_text("学籍状态：在籍 → 休学")
    school.close()

    db.session.expire_all()
    assert db.session.get(Student, student_id).status == "suspended"


@pytest.mark.browser
def test_graduation_cohort_in_chromium(server, browser, csrf_world):  # noqa: F811
    """A school submits a small cohort, the county strikes one student, the roster is numbered."""
    from .test_graduation import graduate_compulsory

    passed = [graduate_compulsory(csrf_world) for _ in range(3)]
    graduate_compulsory(csrf_world, 数学="core")
    passed[0].name = "孙小强"
    db.session.commit()

    school = Person(browser, server, "uJ1")
    page = school.page
    page.click("nav >> text=毕业验印")
    page.fill("#f-entry_year", "2024")
    page.click("button:has-text('提交毕业验印名册')")
    expect(page.locator(".flash-success")).to_contain_text("共 4 名学生")
    school.close()

    county = Person(browser, server, "u321202")
    page = county.page
    row = page.locator("table.inbox tbody tr", has_text="县级教育行政部门审核毕业名册")
    row.locator("a.task-link").click()
    expect(page.locator("#roster-summary")).to_contain_text("毕业 3，结业（修业） 1")
    page.click("text=查看名册")
    entry = page.locator("table.roster tbody tr", has_text="孙小强")
    entry.locator("select[name=action]").select_option("strike")
    entry.locator("input[name=comment]").fill("已转学，不在本届")
    entry.locator("button:has-text('修改')").click()
    expect(page.locator(".flash-success")).to_contain_text("已剔除：孙小强")
    expect(page.locator("#roster-totals .count-struck")).to_have_text("1")
    page.click("text=审核页面")
    page.check("input[name=decision][value=approve]")
    page.click("button:has-text('提交')")
    expect(page.locator(".flash-success")).to_contain_text("已办结")
    county.close()

    school = Person(browser, server, "uJ1")
    page = school.page
    db.session.expire_all()
    instance = Instance.query.filter_by(procedure="graduation").one()
    page.goto(f"{server}/instances/{instance.id}/roster")
    numbers = page.locator("table.roster tbody tr td.mono:last-child").all_inner_texts()
    issued = sorted(n for n in numbers if n.strip())
    year = instance.finished_at.year
    assert issued == [f"{year}J1{n:04d}" for n in (1, 2, 3)]
    expect(page.locator("table.roster tbody tr", has_text="孙小强")).to_contain_text("已剔除")
    school.close()


# -- the instance on its diagram ------------------------------------------------------------


def element(page, element_id: str):
    """The SVG group bpmn-js draws for one BPMN element."""
    return page.locator(f'g.djs-element[data-element-id="{element_id}"]')


def wait_for_diagram(page) -> None:
    expect(page.locator("#diagram[data-ready=true]")).to_have_count(1)


def has_marker(name: str):
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")


@pytest.mark.browser
def test_diagram_marks_the_current_step_on_instance_and_task_pages(server, browser, csrf_world):  # noqa: F811
    from workflows import engine

    from .flows import transfer_data

    student = csrf_world.student("P1", grade=4, name="周小军")
    db.session.commit()
    instance = engine.start("transfer", csrf_world.users["P3"], transfer_data(student, "P3"))
    (task,) = engine.open_tasks(instance)
    instance_id, task_id = instance.id, task.id

    school = Person(browser, server, "uP3")
    page = school.page
    page.goto(f"{server}/instances/{instance_id}")
    wait_for_diagram(page)
    expect(element(page, "to_county_review")).to_have_class(has_marker("current"))
    expect(element(page, "check_rules")).to_have_class(has_marker("done"))
    expect(element(page, "start")).to_have_class(has_marker("done"))
    expect(element(page, "from_school_review")).not_to_have_class(has_marker("current|done"))
    # the lanes carry the organisations, and the history sits right below the diagram
    expect(element(page, "lane_to_county")).to_contain_text("高港区")
    expect(page.locator("#diagram ~ section").first).to_contain_text("办理记录")
    expect(page.locator("#diagram .diagram-legend")).to_contain_text("当前步骤")
    school.close()

    county = Person(browser, server, "u321203")
    page = county.page
    page.goto(f"{server}/tasks/{task_id}")
    wait_for_diagram(page)
    expect(element(page, "to_county_review")).to_have_class(has_marker("current"))
    expect(element(page, "gw_check")).to_have_class(has_marker("done"))
    page.check("input[name=decision][value=reject]")
    page.fill("#f-comment", "户籍证明不全")
    page.click("button:has-text('提交')")
    expect(page.locator(".flash-success")).to_be_visible()
    page.goto(f"{server}/instances/{instance_id}")
    wait_for_diagram(page)
    expect(element(page, "to_county_review")).to_have_class(has_marker("rejected"))
    expect(element(page, "end_rejected")).to_have_class(has_marker("rejected"))
    expect(page.locator("g.djs-element.current")).to_have_count(0)
    county.close()


@pytest.mark.browser
def test_the_diagram_draws_the_segment_the_instance_stands_in(server, browser, csrf_world):  # noqa: F811
    """Past the sending school, the transfer stands inside its segment (the sending side's
    reviews): the call is current on the diagram, the review current on the segment's."""
    from workflows import engine

    from .flows import act, transfer_data

    student = csrf_world.student("P1", grade=4)
    db.session.commit()
    instance = engine.start("transfer", csrf_world.users["P3"], transfer_data(student, "P3"))
    instance = act(csrf_world, act(csrf_world, instance))
    person = Person(browser, server, "u321202")
    page = person.page
    page.goto(f"{server}/instances/{instance.id}")
    wait_for_diagram(page)
    expect(element(page, "approvals")).to_have_class(has_marker("current"))
    segment = page.locator('#diagram .diagram-segment[data-segment="transfer_approvals"]')
    expect(segment.locator("h3")).to_contain_text("子流程：转学·转出地审核")
    review = segment.locator('g.djs-element[data-element-id="from_county_review"]')
    expect(review).to_have_class(has_marker("current"))
    expect(segment.locator('g.djs-element[data-element-id="approvals_start"]')).to_have_class(
        has_marker("done")
    )
    expect(
        segment.locator('g.djs-element[data-element-id="approvals_lane_from_county"]')
    ).to_contain_text("海陵区")
    person.close()


def json_reply(body: str):
    return lambda route: route.fulfill(body=body, content_type="application/json")


@pytest.mark.browser
def test_every_procedure_is_laid_out_and_markable(server, browser, csrf_world):  # noqa: F811
    """The BPMN files carry no layout: each one, defaults and variants, is drawn with every
    flow node and lane."""
    import json
    from pathlib import Path

    from lxml import etree

    from workflows.specs import NS

    from .test_web import start_transfer

    student = csrf_world.student("P1", grade=4)
    db.session.commit()
    instance_id = start_transfer(csrf_world, student).id
    person = Person(browser, server, "uP3")
    page = person.page
    # the defaults and every variant's own (boundary timers, placement loops…)
    files = sorted((Path(__file__).parent.parent / "workflows" / "bpmn").rglob("*.bpmn"))
    assert len(files) >= 16
    for path in files:
        xml = path.read_text(encoding="utf-8")
        root = etree.fromstring(xml.encode())
        nodes = [
            el.get("id")
            for el in root.iterfind(".//bpmn:process/*", NS)
            if el.get("id") and etree.QName(el).localname not in ("laneSet", "sequenceFlow")
        ]
        lanes = [el.get("id") for el in root.iterfind(".//bpmn:lane", NS)]
        # every node done, except one current and one failed: one marker each, the later wins
        state = {"bpmn_xml": xml, "completed": nodes, "active": nodes[1:2], "failed": nodes[2:3]}
        page.route("**/diagram.json", json_reply(json.dumps(state)))
        page.goto(f"{server}/instances/{instance_id}")
        wait_for_diagram(page)
        assert page.locator("g.djs-element.done").count() == len(nodes) - 2, path.name
        expect(element(page, nodes[1])).to_have_class(has_marker("current"))
        expect(element(page, nodes[2])).to_have_class(has_marker("failed"))
        for lane in lanes:
            expect(element(page, lane)).to_have_count(1)
        page.unroute("**/diagram.json")
    person.close()


@pytest.mark.browser
def test_the_page_works_when_the_diagram_script_is_missing(server, browser, csrf_world):  # noqa: F811
    from .test_web import start_transfer

    student = csrf_world.student("P1", grade=4)
    db.session.commit()
    instance_id = start_transfer(csrf_world, student).id
    person = Person(browser, server, "uP3")
    page = person.page
    page.route("**/static/build/diagram.js", lambda route: route.fulfill(status=404, body=""))
    page.goto(f"{server}/instances/{instance_id}")
    expect(page.locator("#diagram .diagram-status")).to_have_text("流程图加载失败")
    expect(page.locator("table.history")).to_contain_text("发起转学")
    person.close()


@pytest.mark.browser
def test_signing_out_is_a_button_and_a_copied_cookie_dies_with_it(server, browser, csrf_world):  # noqa: F811
    person = Person(browser, server, "uP1")
    copied = person.context.cookies()
    person.page.click(".whoami button:has-text('退出')")
    expect(person.page.locator(".flash")).to_contain_text("您已安全退出")

    replay = browser.new_context()
    replay.add_cookies(copied)
    page = replay.new_page()
    page.goto(f"{server}/students")
    expect(page.locator("h1")).to_have_text("登录学籍通")  # the copied cookie no longer works
    replay.close()
    person.close()


@pytest.mark.browser
def test_the_modeler_says_so_when_its_script_is_missing(server, browser, csrf_world):  # noqa: F811
    person = Person(browser, server, "admin")
    page = person.page
    page.route("**/static/build/modeler.js", lambda route: route.fulfill(status=404, body=""))
    page.goto(f"{server}/admin/models/transfer/default/edit")
    status = page.locator("#model-status")
    expect(status).to_contain_text("建模器加载失败")
    expect(status).to_have_class("flash flash-error")
    person.close()


# -- process models: the modeler, the bench, a new version ------------------------------------


def open_modeler(person: Person, procedure: str, variant: str = "default"):
    page = person.page
    page.goto(f"{person.base}/admin/models/{procedure}/{variant}/edit")
    expect(page.locator("#modeler-canvas[data-ready=true]")).to_have_count(1)
    return page


def options(page, selector: str) -> list[str]:
    return [
        v
        for v in page.locator(f"{selector} option").evaluate_all("os => os.map(o => o.value)")
        if v
    ]


@pytest.mark.browser
def test_the_modeler_loads_a_procedure_and_its_side_panel_offers_only_known_names(
    server,
    browser,
    csrf_world,  # noqa: F811
):
    """The side panel offers the names that exist and writes them as our files do; a lane
    renamed in the diagram to something that is no slot is refused on the bench with the
    lane marked; fixed in the panel, the draft passes and saves, and the version's diff
    names the changed step and the layout, nothing else."""
    from workflows import modeling

    names = modeling.names()
    admin = Person(browser, server, "admin")
    page = admin.page
    page.click("nav >> text=流程模型")
    page.locator("#model-suspension-default").locator("text=建模器").click()
    expect(page.locator("#modeler-canvas[data-ready=true]")).to_have_count(1)
    expect(page.locator("h1")).to_contain_text("建模器：休学（suspension）")

    pick(page, "school_review")
    expect(page.locator("#prop-id")).to_have_text("school_review")
    assert options(page, "#prop-formKey") == names["forms"]
    expect(page.locator("#prop-formKey")).to_have_value("review")
    expect(page.locator("#prop-notBy")).to_have_value("initiator")
    page.fill("#prop-dueDays", "5")
    page.locator("#prop-dueDays").press("Tab")

    page.select_option("#model-part", "suspension_county")  # the county's review: a segment
    pick(page, "county_review")
    page.select_option("#prop-formKey", "review")  # no re-examination any more
    segment_xml = page.evaluate("async () => (await window.xuejiModeler.saveXML()).xml")
    page.select_option("#model-part", "")  # back to the diagram itself

    pick(page, "check_rules")
    assert options(page, "#prop-handler") == names["handlers"]
    expect(page.locator("#prop-handler")).to_have_value("suspension.check")

    lane = element(page, "lane_county").locator("rect.djs-hit-all").first
    lane.click()
    assert options(page, "#prop-slot") == names["slots"]
    expect(page.locator("#prop-slot")).to_have_value("county")

    xml = page.evaluate("async () => (await window.xuejiModeler.saveXML()).xml")
    props = {**properties_of(xml), **properties_of(segment_xml)}
    assert props["school_review"] == {"formKey": "review", "notBy": "initiator", "dueDays": "5"}
    assert props["county_review"] == {"formKey": "review"}

    # renamed in the diagram itself (double-click the lane's label): not a slot
    lane.dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type("district")
    pick(page, "check_rules")
    page.get_by_role("button", name="运行测试场景").click()
    problems = page.locator("#model-problems")
    expect(problems).to_contain_text("lane_county：泳道名称“district”不是已知的岗位槽位")
    expect(element(page, "lane_county")).to_have_class(has_marker("invalid"))
    expect(page.locator("#save-draft")).to_be_disabled()
    expect(page.locator("#prop-id")).to_have_text("lane_county")  # selected for the fix
    expect(page.locator("#properties-panel")).to_contain_text("当前值“district”不是已知的岗位槽位")
    page.select_option("#prop-slot", "county")

    page.get_by_role("button", name="运行测试场景").click()
    expect(page.locator("#bench-results .bench-summary")).to_have_text(
        "未通过 1/17", timeout=BENCH_WAIT
    )
    expect(page.locator("#bench-results tr.fail")).to_contain_text("县级要求到指定医院复查")
    expect(page.locator("#save-draft")).to_be_disabled()
    page.select_option("#model-part", "suspension_county")
    pick(page, "county_review")
    page.select_option("#prop-formKey", "review_reexamine")  # back as it was
    page.get_by_role("button", name="运行测试场景").click()
    expect(page.locator("#bench-results .bench-summary")).to_have_text(
        "全部通过 17/17", timeout=BENCH_WAIT
    )
    page.get_by_role("button", name="保存为新版本").click()
    # saving runs the scenarios again before it deploys
    expect(page.locator(".flash-success")).to_contain_text("第 2 版", timeout=BENCH_WAIT)
    changes = page.locator("#version-2 table.changes tbody tr")
    expect(changes).to_have_count(2)
    expect(changes.nth(0)).to_contain_text("school_review")
    expect(changes.nth(0)).to_contain_text('name="dueDays" value="5"')
    expect(changes.nth(1)).to_contain_text("布局")
    admin.close()


def pick(page, element_id: str) -> None:
    """Select a shape by clicking just inside its corner (a flow may cross its middle)."""
    element(page, element_id).click(position={"x": 6, "y": 6})


def properties_of(xml: str) -> dict[str, dict[str, str]]:
    from lxml import etree

    from workflows.specs import NS

    root = etree.fromstring(xml.encode())
    return {
        task.get("id"): {
            p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)
        }
        for task in root.iterfind(".//bpmn:userTask", NS)
    }


def platform_facts(xml: str) -> dict:
    """What the engine reads from a file besides the flow: lane slots and their nodes, forms
    and step properties, handlers, conditions, scripts and timers, element names."""
    from lxml import etree

    from workflows.specs import NS

    root = etree.fromstring(xml.encode())
    facts: dict = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.get("id"):
            continue
        if etree.QName(el).namespace != NS["bpmn"]:
            continue  # diagram interchange: the modeler adds it
        entry = {k: v for k, v in el.attrib.items()}
        entry["properties"] = {
            p.get("name"): p.get("value") for p in el.iterfind("./*/spiffworkflow:properties/*", NS)
        }
        entry["handlers"] = [
            (op.get("id"), op.get("resultVariable"))
            for op in el.iterfind("./*/spiffworkflow:serviceTaskOperator", NS)
        ]
        entry["text"] = sorted(
            (etree.QName(child).localname, (child.text or "").strip())
            for child in el
            if isinstance(child.tag, str)
            and etree.QName(child).localname
            in ("conditionExpression", "script", "timeDate", "timeDuration", "flowNodeRef")
        )
        facts[el.get("id")] = entry
    return facts


@pytest.mark.browser
def test_every_shipped_model_survives_an_unmodified_round_trip_through_the_modeler(
    server,
    browser,
    csrf_world,  # noqa: F811
):
    from webapp.models.vocabulary import PROCEDURES
    from workflows import deploy
    from workflows.specs import parse

    models = [(key, "default") for key in PROCEDURES] + [
        (key, variant)
        for variant in deploy.shipped_variants()
        for key in PROCEDURES
        if f"{key}.bpmn" in deploy.overrides(key, variant)
    ]
    assert len(models) >= 14
    admin = Person(browser, server, "admin")
    for procedure, variant in models:
        page = open_modeler(admin, procedure, variant)
        xml = page.evaluate("async () => (await window.xuejiModeler.saveXML({format: true})).xml")
        original, dmn = deploy.read_files(procedure, variant)
        segments = deploy.read_segments(procedure, variant)
        parse(procedure, xml, dmn, segments)  # lanes, forms, handlers, expressions: still valid
        assert platform_facts(xml) == platform_facts(original), (procedure, variant)
        assert "bpmndi:BPMNDiagram" in xml  # and now it carries its layout
    admin.close()


@pytest.mark.browser
def test_an_admin_changes_a_threshold_the_bench_passes_and_new_instances_follow_it(
    server,
    browser,
    csrf_world,  # noqa: F811
):
    """Vocational suspension needs more than 1/3 of the term's hours missed; the admin makes it
    1/4 (the shipped scenarios still pass: 75/300 is not more than a quarter). An instance
    started before keeps the old rule when its corrected application is checked again; a new
    one follows the new rule (80/300 hours: refused before, accepted now)."""
    from workflows import deploy, engine

    from .test_suspension import decide, second_user, suspension_data

    world = csrf_world
    second_user(world, "V1")
    uv1 = world.users["V1"]
    older = world.student("V1", grade=10, name="职校甲")
    before = engine.start(
        "suspension",
        uv1,
        suspension_data(uv1, absence_hours=250, term_hours=300),
        student_id=older.id,
    )
    assert (before.status, before.process_version.version) == ("running", 1)
    before_id = before.id

    admin = Person(browser, server, "admin")
    page = open_modeler(admin, "suspension")
    table = page.locator("#table-suspension_threshold")
    cell = table.locator('input[data-id="r_vocational_minimum"]')
    expect(cell).to_have_value("3")
    expect(page.locator("#save-draft")).to_be_disabled()
    cell.fill("4")
    table.locator('input[data-id="r_vocational"]').fill(
        "中等职业学校：缺课超过一学期总学时的四分之一"
    )
    page.get_by_role("button", name="运行测试场景").click()
    expect(page.locator("#bench-results .bench-summary")).to_have_text(
        "全部通过 17/17", timeout=BENCH_WAIT
    )
    expect(page.locator("#bench-results tbody tr")).to_have_count(17)
    # the first scenario's path is marked on the diagram
    expect(element(page, "check_rules")).to_have_class(has_marker("bench-path"))
    expect(page.locator("#save-draft")).to_be_enabled()
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".flash-success")).to_contain_text("第 2 版", timeout=30_000)
    assert admin.confirmations == [
        "确认把这份草稿保存为默认（江苏泰州，中职按福建）（default）的新版本？"
        "之后新发起的业务按新版本办理，已在办理的业务不受影响。"
    ]
    expect(page.locator("h1")).to_contain_text("版本")
    newest = page.locator("#version-2")
    expect(newest.locator(".deployed-by")).to_have_text("admin")
    expect(newest).to_contain_text("suspension_threshold.dmn：r_vocational_minimum")
    admin.close()

    db.session.expire_all()
    assert deploy.latest("suspension").version == 2

    # the older instance is returned, corrected to 80 hours, checked again on version 1
    before = db.session.get(Instance, before_id)
    before = decide(world, before, "return", "请核对课时")
    with pytest.raises(Refused) as refused:  # refused on its form by version 1's rule
        decide(world, before, **suspension_data(uv1, absence_hours=80, term_hours=300))
    assert [r.rule for r in refused.value.refusals] == ["absence_threshold"]
    db.session.refresh(before)
    assert (before.process_version.version, before.status) == (1, "running")

    # a new instance with the same 80 hours runs version 2 and passes the check
    newer = world.student("V1", grade=10, name="职校乙")
    after = engine.start(
        "suspension",
        uv1,
        suspension_data(uv1, absence_hours=80, term_hours=300),
        student_id=newer.id,
    )
    assert after.process_version.version == 2
    assert after.status == "running"
    assert [t.step for t in engine.open_tasks(after)] == ["school_review"]


@pytest.mark.browser
def test_the_admin_opens_the_rule_list_from_the_menu(server, browser, csrf_world):  # noqa: F811
    person = Person(browser, server, "admin")
    person.page.click("nav a:has-text('规则清单')")
    expect(person.page.locator("h1")).to_have_text("规则清单")
    row = person.page.locator("tr.rule", has_text="skip_grade_allowed")
    expect(row.locator(".passage")).to_contain_text("000 第二十二条")
    expect(row.locator(".variants")).to_contain_text("山东（shandong）")
    person.close()
