"""The process-model pages (admins): the list, the modeler's bench and save (refusals name the
element; a save only after a passing bench run of the same draft; running instances keep
their version), the version list with its diff, and migrating instances one or in bulk."""

from __future__ import annotations

import json
import re

import pytest

from webapp.extensions import db
from webapp.models import AuditLog, InstanceEvent, ProcessVersion
from workflows import deploy, engine

from .flows import act, transfer_data
from .test_suspension import second_user, suspension_data
from .test_web import text

SUSPENSION, SUSPENSION_DMN = deploy.read_files("suspension")
TRANSFER, _ = deploy.read_files("transfer")
SKIP, _ = deploy.read_files("skip_grade")
BASE = "/admin/models/suspension/default"


def draft(procedure="suspension", variant="default", bpmn=None, cells=None) -> dict:
    base = deploy.latest(procedure, variant)
    return {
        "base_version": base.id,
        "bpmn_xml": base.bpmn_xml if bpmn is None else bpmn,
        "dmn_cells": cells or {},
    }


VOCATIONAL_QUARTER = {"suspension_threshold.dmn": {"r_vocational_minimum": "4"}}


def versions(procedure="suspension", variant="default") -> int:
    return ProcessVersion.query.filter_by(procedure=procedure, variant=variant).count()


# -- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/admin/models"),
        ("get", f"{BASE}/edit"),
        ("get", f"{BASE}/versions"),
        ("get", f"{BASE}/migrate"),
        ("post", f"{BASE}/bench"),
        ("post", f"{BASE}/save"),
        ("post", f"{BASE}/migrate"),
        ("post", f"{BASE}/migrate/1"),
    ],
)
def test_only_admins(client, world, login, method, url):
    assert getattr(client, method)(url).status_code == 302  # to the sign-in page
    for username in ("u321202", "uP1", "u3212"):
        login(username)
        assert getattr(client, method)(url).status_code == 403, username


def test_the_nav_offers_process_models_to_admins_only(world, login):
    assert "流程模型" in text(login("admin").get("/admin/variants"))
    assert "流程模型" not in text(login("u321202").get("/"))


# -- the list --------------------------------------------------------------------------------


def test_the_list_shows_every_procedure_and_variant_with_who_and_links(world, login):
    client = login("admin")
    page = text(client.get("/admin/models"))
    for procedure, variant in (("transfer", "default"), ("skip_grade", "shandong")):
        row = re.search(rf'<tr id="model-{procedure}-{variant}">(.*?)</tr>', page, re.S).group(1)
        assert "第 1 版" in row and "随文件部署" in row
        assert f"/admin/models/{procedure}/{variant}/edit" in row
        assert f"/admin/models/{procedure}/{variant}/versions" in row
        assert f"/admin/models/{procedure}/{variant}/migrate" in row
    resp = client.get("/admin/models/open?procedure=transfer&variant=yuhong")
    assert resp.headers["Location"].endswith("/admin/models/transfer/yuhong/edit")
    assert client.get("/admin/models/open?procedure=teleport&variant=default").status_code == 404


# -- the modeler page ------------------------------------------------------------------------


def model_data(page: str) -> dict:
    raw = re.search(r'<script type="application/json" id="model-data">(.*?)</script>', page, re.S)
    return json.loads(raw.group(1))


def test_the_modeler_opens_the_newest_version_with_the_names_and_the_tables(world, login):
    client = login("admin")
    page = text(client.get(f"{BASE}/edit"))
    data = model_data(page)
    newest = deploy.latest("suspension")
    assert data["base_version"] == newest.id and data["bpmn_xml"] == newest.bpmn_xml
    assert "review" in data["names"]["forms"] and "suspension.check" in data["names"]["handlers"]
    assert "to_county" in data["names"]["slots"]
    assert re.search(r'data-id="r_compulsory_minimum"[^>]*value="210"', page)
    assert "义务教育阶段：缺课超过 210 课时" in page  # the rule's description
    assert 'data-csrf="' in page and "build/modeler.js" in page

    # a variant without a version of its own starts from the default's
    page = text(client.get("/admin/models/skip_grade/zhushan/edit"))
    assert model_data(page)["base_version"] == deploy.latest("skip_grade").id
    assert "保存后成为它的第 1 版" in page
    assert client.get("/admin/models/transfer/atlantis/edit").status_code == 404


# -- bench and save --------------------------------------------------------------------------


def test_a_broken_draft_is_refused_with_the_element_named(world, login):
    client = login("admin")
    broken = draft(bpmn=SUSPENSION.replace('name="county"', 'name="district"'))
    report = client.post(f"{BASE}/bench", json=broken).get_json()["report"]
    assert not report["passed"] and report["results"] == []
    assert report["problems"][0]["element"] == "lane_county"

    resp = client.post(f"{BASE}/save", json=broken)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "流程模型有误，未部署。"
    assert {"element": "lane_county", "message": "泳道名称“district”不是已知的岗位槽位"} in body[
        "problems"
    ]
    assert versions() == 1


def test_an_unknown_table_cell_is_refused(world, login):
    client = login("admin")
    resp = client.post(
        f"{BASE}/bench", json=draft(cells={"suspension_threshold.dmn": {"no_such": "1"}})
    )
    assert resp.status_code == 422 and "no_such" in resp.get_json()["error"]
    resp = client.post(f"{BASE}/bench", json=draft(cells={"nope.dmn": {"x": "1"}}))
    assert resp.status_code == 422 and "nope.dmn" in resp.get_json()["error"]


def test_a_draft_that_fails_its_scenarios_cannot_be_saved(world, login):
    client = login("admin")
    stricter = draft(cells={"suspension_threshold.dmn": {"r_compulsory_minimum": "200"}})
    report = client.post(f"{BASE}/bench", json=stricter).get_json()["report"]
    assert not report["passed"]
    (failed,) = [r for r in report["results"] if not r["passed"]]
    assert failed["name"] == "义务教育缺课 210 课时：未超过 210 课时，不予休学"
    assert failed["difference"] == "status：期望 rejected，实际 running"
    assert failed["path"] == ["check_rules"]
    resp = client.post(f"{BASE}/save", json=stricter)
    assert resp.status_code == 409 and "请先对这份草稿运行测试场景" in resp.get_json()["error"]
    assert versions() == 1


def test_a_save_needs_a_passing_run_of_the_same_draft_then_creates_a_version(world, login):
    student = world.student("V1", grade=10)
    second_user(world, "V1")
    running = engine.start(
        "suspension",
        world.users["V1"],
        suspension_data(world.users["V1"], absence_hours=250, term_hours=300),
        student_id=student.id,
    )
    assert running.process_version.version == 1

    client = login("admin")
    quarter = draft(cells=VOCATIONAL_QUARTER)
    resp = client.post(f"{BASE}/save", json=quarter)
    assert resp.status_code == 409 and versions() == 1  # no bench run yet
    assert client.post(f"{BASE}/bench", json=quarter).get_json()["report"]["passed"]
    other = draft(cells={"suspension_threshold.dmn": {"r_vocational_minimum": "3.5"}})
    assert client.post(f"{BASE}/save", json=other).status_code == 409  # not the draft that ran

    resp = client.post(f"{BASE}/save", json=quarter)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"version": 2, "url": f"{BASE}/versions"}
    newest = deploy.latest("suspension")
    assert newest.version == 2 and newest.created_by.username == "admin"
    assert newest.bpmn_xml == SUSPENSION  # the diagram was not touched: the file as it was
    assert "<text>4</text>" in newest.dmn["suspension_threshold.dmn"]
    assert newest.dmn["suspension_length.dmn"] == SUSPENSION_DMN["suspension_length.dmn"]
    assert AuditLog.query.filter_by(action="model.deploy").count() == 1
    db.session.refresh(running)
    assert running.process_version.version == 1  # running instances keep theirs
    assert "已部署 休学（suspension）" in text(client.get(f"{BASE}/versions"))

    # the same draft again: nothing new, and a stale base is refused
    assert client.post(f"{BASE}/save", json=quarter).status_code == 409
    assert versions() == 2


def test_an_unchanged_draft_is_not_saved(world, login):
    client = login("admin")
    same = draft()
    assert client.post(f"{BASE}/bench", json=same).get_json()["report"]["passed"]
    resp = client.post(f"{BASE}/save", json=same)
    assert resp.status_code == 422 and "相同" in resp.get_json()["error"]
    assert versions() == 1


def test_a_variant_saves_its_first_version_from_the_defaults(world, login):
    client = login("admin")
    renamed = SKIP.replace('name="学校审核', 'name="学校审核（教导处）', 1)
    body = draft("skip_grade", "zhushan", bpmn=renamed)
    url = "/admin/models/skip_grade/zhushan"
    assert client.post(f"{url}/bench", json=body).get_json()["report"]["passed"]
    assert client.post(f"{url}/save", json=body).get_json()["version"] == 1
    assert deploy.newest("skip_grade", "zhushan").bpmn_xml == renamed
    assert deploy.latest("skip_grade").version == 1  # the default's untouched


# -- versions --------------------------------------------------------------------------------


def test_the_version_list_shows_who_when_the_hash_and_the_change(world, login):
    client = login("admin")
    quarter = draft(cells=VOCATIONAL_QUARTER)
    client.post(f"{BASE}/bench", json=quarter)
    client.post(f"{BASE}/save", json=quarter)
    page = text(client.get(f"{BASE}/versions"))
    v2 = re.search(r'<section class="card version" id="version-2">(.*?)</section>', page, re.S)
    v1 = re.search(r'<section class="card version" id="version-1">(.*?)</section>', page, re.S)
    assert "admin" in v2.group(1) and deploy.latest("suspension").content_hash[:12] in v2.group(1)
    assert "与第 1 版相比" in v2.group(1)
    assert "suspension_threshold.dmn：r_vocational_minimum" in v2.group(1)
    assert "&lt;text&gt;3&lt;/text&gt;" in v2.group(1) and "&lt;text&gt;4&lt;/text&gt;" in v2.group(
        1
    )
    assert "随文件部署" in v1.group(1) and "首个版本" in v1.group(1)


# -- migration -------------------------------------------------------------------------------


def start_transfer(world):
    student = world.student("P1", grade=4)
    return engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))


def test_migrating_one_and_in_bulk_through_the_page(world, login):
    early = start_transfer(world)
    late = act(world, act(world, start_transfer(world)))  # past the sending school's review
    other = start_transfer(world)
    deploy.deploy(
        "transfer", TRANSFER.replace('name="转出学校审核"', 'name="转出学校审核（校长签字）"'), {}
    )
    db.session.commit()
    early_id, late_id, other_id = early.id, late.id, other.id

    client = login("admin")
    url = "/admin/models/transfer/default/migrate"
    page = text(client.get(url))
    row = re.search(rf'<tr id="instance-{early_id}" class="allowed">(.*?)</tr>', page, re.S)
    assert "可迁移到第 2 版" in row.group(1) and "确认把业务" in row.group(1)
    row = re.search(rf'<tr id="instance-{late_id}" class="refused">(.*?)</tr>', page, re.S)
    assert "from_school_review" in row.group(1) and "<button" not in row.group(1)
    assert "全部可迁移的业务迁到最新版本（2 个）" in page

    resp = client.post(f"{url}/{early_id}", follow_redirects=True)
    assert f"业务 {early_id} 已从第 1 版迁移到第 2 版" in text(resp)
    resp = client.post(f"{url}/{late_id}", follow_redirects=True)
    assert "不能迁移" in text(resp) and "from_school_review" in text(resp)

    resp = client.post(url, follow_redirects=True)
    page = text(resp)
    assert f"已迁移 1 个业务到最新版本：{other_id}" in page
    assert f"未迁移 1 个：业务 {late_id}：新版本改动了该业务已经办理过的步骤" in page

    db.session.expire_all()
    moved = {
        e.instance_id
        for e in InstanceEvent.query.filter_by(step="migrate").all()
        if "迁移到 2" in e.name
    }
    assert moved == {early_id, other_id}
    assert AuditLog.query.filter_by(action="instance.migrate").count() == 2
    assert client.post(f"/admin/models/suspension/default/migrate/{early_id}").status_code == 404
