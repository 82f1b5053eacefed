"""The test bench: a draft runs against its scenarios in a sandbox through the real engine;
a change of path or outcome is reported with the first difference; no real row is touched."""

from __future__ import annotations

import json
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from lxml import etree

from webapp.extensions import db
from webapp.models import (
    AuditLog,
    FileUpload,
    Instance,
    Organization,
    ProcessVersion,
    Student,
    User,
    china_today,
)
from webapp.models.vocabulary import PROCEDURES
from workflows import deploy, testbench

SCENARIO_FILES = sorted(testbench.SCENARIO_DIR.glob("*/*.yaml"))


def failed(report) -> dict[str, str]:
    return {r.name: r.difference for r in report.results if not r.passed}


def test_the_shipped_default_transfer_passes_and_reports_its_paths(app):
    report = testbench.run_shipped("transfer", "default")
    assert report.passed and report.counts == (6, 6)
    first = report.results[0]
    assert first.path == [
        "check_rules",
        "to_county_review",
        "from_school_review",
        "from_county_review",
        "recheck_placement",  # issue 14: the class is checked again before the record moves
        "move_record",
    ]
    assert (first.status, first.variant, first.difference) == ("completed", "default", None)
    json.dumps(report.as_dict(), ensure_ascii=False)  # what the modeler will receive


def test_a_draft_that_changes_the_chain_fails_with_the_first_difference(app):
    bpmn, dmn = deploy.read_files("transfer")
    segments = deploy.read_segments("transfer")
    approvals = segments["transfer_approvals"]  # the sending side's reviews: a segment
    assert approvals.count('check["needs_city"]') == 1
    no_city = approvals.replace('check["needs_city"]', "False")  # the city never reviews
    draft = {**segments, "transfer_approvals": no_city}
    report = testbench.run("transfer", "default", bpmn, dmn, segments=draft)
    assert not report.passed
    assert failed(report) == {
        "高中跨县转学须经市级审核": "第 4 个人工步骤：期望 city_review 待办，实际待办：无（业务状态 completed）"
    }
    (result,) = [r for r in report.results if not r.passed]
    assert result.path[-1] == "move_record" and result.open_steps == []


def test_a_draft_table_with_another_number_fails_the_scenarios_that_pin_it(app):
    bpmn, dmn = deploy.read_files("suspension")
    table = dmn["suspension_threshold.dmn"]
    assert table.count("<text>210</text>") == 1
    draft = {
        **dmn,
        "suspension_threshold.dmn": table.replace("<text>210</text>", "<text>200</text>"),
    }
    report = testbench.run("suspension", "default", bpmn, draft)
    assert failed(report) == {
        "义务教育缺课 210 课时：未超过 210 课时，不予休学": "status：期望 rejected，实际 running"
    }


def test_an_invalid_draft_reports_its_problems_and_runs_nothing(app):
    bpmn, dmn = deploy.read_files("suspension")
    report = testbench.run("suspension", "default", bpmn.replace('name="county"', 'name="x"'), dmn)
    assert not report.passed and report.results == []
    assert report.problems[0]["element"] == "lane_county"
    missing = testbench.run("suspension", "default", bpmn, {})
    assert {p["element"] for p in missing.problems} == {
        "suspension_threshold",
        "suspension_length",
        "suspension_graduating_year",  # required since the default ships it (issue 14.9)
    }


def test_a_handler_error_is_a_finding_not_a_crash(app):
    bpmn, dmn = deploy.read_files("suspension")
    broken = dmn["suspension_threshold.dmn"].replace('<text>"hours"</text>', '<text>"hourz"</text>')
    report = testbench.run(
        "suspension", "default", bpmn, {**dmn, "suspension_threshold.dmn": broken}
    )
    differences = failed(report).values()
    assert any("运行出错" in d and "hourz" in d for d in differences), differences


def test_the_sandbox_touches_no_real_row(world):
    world.student("P1", grade=3)
    tables = (AuditLog, FileUpload, Instance, Organization, ProcessVersion, Student, User)
    before = {t.__name__: t.query.count() for t in tables}
    for procedure in ("resumption", "transfer"):
        assert testbench.run_shipped(procedure, "zhushan").passed
    assert {t.__name__: t.query.count() for t in tables} == before
    # The real session still works after the sandbox closed.
    assert db.session.get(Organization, world.orgs["P1"].id).code == "P1"


def test_relative_dates():
    today = china_today()
    assert testbench.resolve("today") == today.isoformat()
    assert testbench.resolve({"d": ["today-80d+3m"]}) == {
        "d": [(today - relativedelta(days=80) + relativedelta(months=3)).isoformat()]
    }
    assert testbench.resolve("today+1y") == (today + relativedelta(years=1)).isoformat()
    assert testbench.resolve("todays") == "todays"
    assert date.fromisoformat(testbench.resolve("today-1y"))


def test_a_broken_scenario_file_names_itself(tmp_path, monkeypatch):
    (tmp_path / "transfer").mkdir()
    (tmp_path / "transfer" / "bad.yaml").write_text(
        "scenarios:\n  - name: 甲\n    student: {school: P1}\n    start: {}\n    expect: {}\n"
        "    stpes: []\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(testbench.scenarios, "SCENARIO_DIR", tmp_path)
    with pytest.raises(testbench.ScenarioError, match="transfer/bad.yaml“甲”：未知的字段 stpes"):
        testbench.load("transfer")


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_scenario_names_real_variants_and_steps(path):
    procedure = path.parent.name
    assert procedure in PROCEDURES
    known = {"default", *deploy.shipped_variants()}
    for scenario in testbench._read(path):
        assert set(scenario.variants) <= known, scenario.name
        steps = [s if isinstance(s, str) else s["step"] for s in scenario.steps]
        for variant in scenario.variants:
            bpmn, _ = deploy.read_files(procedure, variant)
            files = [bpmn, *deploy.read_segments(procedure, variant).values()]
            ids = {el.get("id") for xml in files for el in etree.fromstring(xml.encode()).iter()}
            unknown = set(steps + list(scenario.expect.get("path") or [])) - ids
            assert not unknown, (scenario.name, variant, unknown)


def test_a_step_sent_to_the_wrong_organisation_fails_its_scenario():
    """Scenarios say who acts: a county review moved to the city's lane no longer passes."""
    bpmn, dmn = deploy.read_files("suspension")
    segments = deploy.read_segments("suspension")
    county = segments["suspension_county"]  # the county's review is a segment
    moved = county.replace(
        '<bpmn:lane id="county_lane_county" name="county">',
        '<bpmn:lane id="county_lane_county" name="city">',
    )
    assert moved != county
    draft = {**segments, "suspension_county": moved}
    report = testbench.run("suspension", "default", bpmn, dmn, segments=draft)
    failed = [r for r in report.results if not r.passed]
    assert failed and any(
        "county_review：期望由 321202 办理，实际：3212" in r.difference for r in failed
    )
