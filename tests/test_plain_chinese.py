"""Plain Chinese where a registrar looks (issue 16 point 8): rule titles instead of ids,
Chinese parser messages, no doubled "。", and 可发起的业务 as the record's status allows."""

from __future__ import annotations

import io
import re
from datetime import date

import lxml.html
import pytest

from forms import FORMS
from handlers.rules import RULESETS, one_stop, title_of
from webapp.models import Instance
from webapp.models.vocabulary import PROCEDURES
from workflows import engine

from .test_dry_run import PDF
from .test_suspension import second_user
from .test_suspension import start as start_suspension

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_rule_has_a_chinese_title():
    names = {r.name for rs in RULESETS for r in rs.rules}
    assert names
    for name in names:
        rule = next(r for rs in RULESETS for r in rs.rules if r.name == name)
        assert CHINESE.search(rule.title) and rule.title != "规则检查", name


def test_joined_messages_keep_one_full_stop():
    assert (
        one_stop("本地区不办理留级：严格控制学生留级。。") == "本地区不办理留级：严格控制学生留级。"
    )
    assert one_stop("依据如下。") == "依据如下。"  # the control: a single stop is left alone


def test_no_start_form_answers_in_the_parsers_english():
    for key, spec in FORMS.items():
        names = list(spec.schema().fields)
        for junk in ({"x": 1}, [1], None, "不是数字"):
            try:
                spec.load({**{n: junk for n in names}, "unknown_key": 1})
            except Exception as exc:  # marshmallow.ValidationError
                for message in _messages(getattr(exc, "messages", {})):
                    assert CHINESE.search(message), (key, message)


def _messages(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _messages(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _messages(value)
    else:
        yield str(tree)


def test_a_bad_number_on_a_start_form_is_refused_in_chinese(world, login):
    student = world.student("P1", grade=4)
    resp = login("uP1").post(
        f"/students/{student.id}/start/suspension",
        data={
            "reason": "illness",
            "absence_hours": "很多",
            "start_date": "2026-09-07",
            "evidence": (io.BytesIO(PDF), "诊断证明.pdf"),
        },
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "缺课课时必须是整数。" in page
    assert "Not a valid" not in page and "。。" not in page


def test_the_main_refusals_render_without_rule_ids_or_doubled_stops(world, login):
    """Refusals of four procedures on their start forms: the title, never the id."""
    suspended = world.student("P1", grade=4, status="suspended", suspended_until=date(2027, 9, 7))
    enrolled = world.student("P1", grade=4)
    client = login("uP1")
    cases = [
        (enrolled, "suspension", {"reason": "illness", "absence_hours": "10"}, "absence_threshold"),
        (
            enrolled,
            "resumption",
            {"resume_date": "2026-09-07", "to_grade": "4"},
            "suspended_status",
        ),
        (
            suspended,
            "resumption",
            {"resume_date": "2026-09-07", "to_grade": "4"},
            "no_early_return",
        ),
        (enrolled, "skip_grade", {"to_grade": "6", "to_class_name": "1"}, "one_grade_up"),
    ]
    for student, procedure, data, rule in cases:
        resp = client.post(
            f"/students/{student.id}/start/{procedure}",
            data={
                "start_date": "2026-09-07",
                **data,
                "evidence": (io.BytesIO(PDF), "证明.pdf"),
            },
            content_type="multipart/form-data",
        )
        page = resp.get_data(as_text=True)
        assert resp.status_code == 422, (procedure, rule)
        assert rule not in page and "。。" not in page, (procedure, rule)
        assert title_of(rule) + "：" in page, (procedure, rule)
    assert Instance.query.count() == 0


def _offered(client, student) -> str:
    page = client.get(f"/students/{student.id}").get_data(as_text=True)
    return page.split("可发起的业务", 1)[1] if "可发起的业务" in page else ""


def test_a_suspended_student_is_offered_resumption_not_suspension_again(world, login):
    suspended = world.student("P1", grade=4, status="suspended", suspended_until=date(2027, 9, 7))
    enrolled = world.student("P1", grade=4)
    client = login("uP1")
    offered = _offered(client, suspended)
    assert f"/students/{suspended.id}/start/resumption" in offered
    assert f"/students/{suspended.id}/start/suspension" not in offered
    assert f"/students/{suspended.id}/start/skip_grade" not in offered
    # the control: an enrolled pupil is offered 休学, not 复学
    offered = _offered(client, enrolled)
    assert f"/students/{enrolled.id}/start/suspension" in offered
    assert f"/students/{enrolled.id}/start/resumption" not in offered


def test_a_graduated_record_offers_nothing_that_needs_an_active_status(world, login):
    graduated = world.student("P1", grade=6, status="graduated")
    offered = _offered(login("uP1"), graduated)
    for procedure in ("suspension", "resumption", "withdrawal", "skip_grade", "info_change"):
        assert f"/students/{graduated.id}/start/{procedure}" not in offered, procedure


# -- the sweep: garbage in every start form and the review form ------------------------------

ENGLISH = re.compile(r"[A-Za-z]{3,}")
DATE_FORMAT = "YYYY-MM-DD"  # the one notation a date's message may show
ONE_SIDED = [p for p in PROCEDURES.values() if not p.two_sided]


def garbage(fields) -> dict:
    """For each field, what it cannot take: letters for a number, a 13th month, a choice
    that is not one, text past any limit."""
    out = {}
    for f in fields:
        if f.widget in ("files", "table"):
            continue
        out[f.name] = {
            "number": "很多abc",
            "date": "2026-13-45",
            "select": "no_such_choice",
            "radio": "no_such_choice",
        }.get(f.widget, "字" * 5000)
    return out


def plain(message: str, keys) -> list[str]:
    """What is wrong with a message shown to a registrar (empty when nothing)."""
    wrong = [f"field key {k}" for k in keys if re.search(rf"\b{k}\b", message)]
    wrong += [f"english {w}" for w in ENGLISH.findall(message.replace(DATE_FORMAT, ""))]
    return wrong + (["doubled stop"] if "。。" in message else [])


def shown_errors(page: str) -> list[tuple[str, str]]:
    """(the label of the field it is shown beside, or "" above the form; message)."""
    tree = lxml.html.fromstring(page)
    out = []
    for box in tree.xpath('//div[contains(@class, "has-error")]'):
        label = box.xpath('string(.//*[contains(@class, "label")])').strip()
        out += [(label, p.text_content().strip()) for p in box.xpath('.//p[@class="error"]')]
    for p in tree.xpath('//div[contains(@class, "flash-error")]/p'):
        out.append(("", p.text_content().strip()))
    return out


def student_for(world, procedure: str):
    if procedure == "resumption":
        return world.student("P1", grade=4, status="suspended", suspended_until=date(2027, 9, 7))
    if procedure == "borrow_return":
        return world.student("P1", grade=4, borrow_host_id=world.orgs["P2"].id)
    if procedure == "certificate_exchange":
        return world.student("P1", grade=9, status="completed")
    return world.student("P1", grade=4)


@pytest.mark.parametrize("procedure", [p.key for p in ONE_SIDED])
def test_garbage_on_a_start_form_is_refused_by_label_in_plain_chinese(world, login, procedure):
    proc = PROCEDURES[procedure]
    spec = FORMS[proc.start_form]
    student = student_for(world, procedure)
    client = login("uP1")
    url = f"/students/{student.id}/start/{procedure}"
    assert client.get(url).status_code == 200
    resp = client.post(url, data=garbage(spec.fields), content_type="multipart/form-data")
    assert resp.status_code == 422, resp.status_code
    shown = shown_errors(resp.get_data(as_text=True))
    assert shown, procedure
    labels = {f.label for f in spec.fields}
    keys = [f.name for f in spec.fields]
    for label, message in shown:
        assert label.rstrip("*") in labels or label == "", (procedure, label, message)
        assert not plain(message, keys), (procedure, label, message, plain(message, keys))
    assert Instance.query.count() == 0


@pytest.mark.parametrize("procedure", list(PROCEDURES))
def test_garbage_through_the_api_is_422_in_plain_chinese(world, api, procedure):
    proc = PROCEDURES[procedure]
    spec = FORMS[proc.start_form]
    student = student_for(world, procedure)
    body = {"procedure": procedure, "data": garbage(spec.fields)}
    if not proc.two_sided:
        body["student_id"] = student.id
    resp = api("uP1").post("/api/v1/instances", json=body)
    assert resp.status_code == 422, (resp.status_code, resp.get_json())
    error = resp.get_json()["error"]
    keys = [f.name for f in spec.fields]
    messages = [error["message"], *_messages(error.get("fields", {}))]
    for message in messages:
        assert not plain(message, keys), (procedure, message, plain(message, keys))
    assert Instance.query.count() == 0


def test_garbage_on_the_review_form_is_refused_by_label_in_plain_chinese(world, login):
    student = world.student("P1", grade=4)
    instance = start_suspension(world, student)
    (task,) = engine.open_tasks(instance)
    spec = FORMS[task.form_key]
    second_user(world, "P1")  # a step of the school is never its initiator's
    reviewer = next(
        u
        for u in world.users.values()
        if (u.org_id, u.role) == (task.org_id, task.role) and u.id != instance.initiator_id
    )
    client = login(reviewer.username)
    url = f"/tasks/{task.id}"
    assert client.get(url).status_code == 200
    data = {**garbage(spec.fields), "decision": "no_such_choice"}
    resp = client.post(url, data=data)
    assert resp.status_code == 422, resp.status_code
    shown = shown_errors(resp.get_data(as_text=True))
    labels = {f.label for f in spec.fields}
    assert shown
    for label, message in shown:
        assert label.rstrip("*") in labels or label == "", (label, message)
        assert not plain(message, [f.name for f in spec.fields]), (label, message)
    # the control: a proper decision on the same form is taken
    resp = client.post(url, data={"decision": "approve", "comment": ""})
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:300]
