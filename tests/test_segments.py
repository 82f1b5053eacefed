"""Segments (called processes): a diagram calls a segment a variant may replace, so the
variant ships only that segment and a fix to the rest of the default reaches it; a missing
segment is refused at deploy; the steps inside a segment are routed, timed and four-eyed
like any other; instances move to a new version inside a segment; the diagram answer draws
the segments too."""

from __future__ import annotations

import shutil

import pytest

from webapp.models import HumanTask, ProcessVersion
from workflows import deploy, engine, migration, runtime, workdays
from workflows.errors import Forbidden
from workflows.specs import InvalidModel, parse

from .flows import act, approve_all, open_steps, transfer_data
from .test_skip_grade import start as skip_start
from .test_suspension import decide, second_user, start, upload

SUSPENSION, SUSPENSION_DMN = deploy.read_files("suspension")
COUNTY = deploy.read_segments("suspension")["suspension_county"]
TRANSFER, TRANSFER_DMN = deploy.read_files("transfer")
APPROVALS = deploy.read_segments("transfer")["transfer_approvals"]


def county_segment(old: str, new: str) -> dict[str, str]:
    assert old in COUNTY
    return {"suspension_county": COUNTY.replace(old, new)}


def county_with_property(form: str, name: str, value: str) -> ProcessVersion:
    """A suspension version whose county segment gives the step of `form` a property."""
    step = f'<spiffworkflow:property name="formKey" value="{form}"/>'
    extra = f'\n          <spiffworkflow:property name="{name}" value="{value}"/>'
    segments = county_segment(step, step + extra)
    return deploy.deploy("suspension", SUSPENSION, SUSPENSION_DMN, segments=segments)


# -- the files: a variant ships the segment only -----------------------------------------


def test_shandong_and_zhushan_ship_only_their_segment():
    for procedure, variant, segment in (
        ("suspension", "shandong", "suspension_county"),
        ("transfer", "zhushan", "transfer_approvals"),
    ):
        assert not (deploy.VARIANTS_DIR / variant / f"{procedure}.bpmn").exists()
        assert f"segments/{segment}.bpmn" in deploy.overrides(procedure, variant)
        bpmn, _ = deploy.read_files(procedure, variant)
        assert bpmn == deploy.read_files(procedure)[0]  # the default's diagram
        own, default = deploy.read_segments(procedure, variant), deploy.read_segments(procedure)
        assert own[segment] != default[segment]
    # yuhong's and shandong's transfers differ in the main chain: whole diagrams, no segment
    assert deploy.read_segments("transfer", "yuhong") == {}
    assert deploy.read_segments("transfer", "shandong") == {}


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A copy of workflows/bpmn/ that a test may edit, used by deploy as the shipped files."""
    copy = tmp_path / "bpmn"
    shutil.copytree(deploy.BPMN_DIR, copy)
    monkeypatch.setattr(deploy, "BPMN_DIR", copy)
    monkeypatch.setattr(deploy, "VARIANTS_DIR", copy / "variants")
    return copy


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_fix_to_the_default_diagram_reaches_a_variant_that_replaces_only_a_segment(app, shipped):
    edit(shipped / "transfer.bpmn", 'name="转出学校审核"', 'name="转出学校审核（校长签字）"')
    deploy.sync_files()
    default, zhushan = deploy.newest("transfer"), deploy.newest("transfer", "zhushan")
    assert default.version == zhushan.version == 2
    assert "转出学校审核（校长签字）" in zhushan.bpmn_xml  # the default's fix
    assert "issue_papers" in zhushan.segments["transfer_approvals"]  # its own papers
    assert "issue_papers" not in default.segments["transfer_approvals"]
    assert deploy.newest("transfer", "yuhong").version == 1  # a whole diagram of its own


def test_a_fix_to_a_default_segment_reaches_every_variant_that_does_not_replace_it(app, shipped):
    edit(
        shipped / "segments" / "suspension_county.bpmn",
        'name="学校上传指定医院复查材料"',
        'name="学校上传指定医院复查报告"',
    )
    deploy.sync_files()
    fixed = "学校上传指定医院复查报告"
    assert fixed in deploy.newest("suspension").segments["suspension_county"]
    for variant in ("zhushan", "yuhong"):  # they override tables only
        version = deploy.newest("suspension", variant)
        assert version.version == 2 and fixed in version.segments["suspension_county"], variant
    # fujian_vocational ships no suspension file since the default follows 002 (issue 14.6):
    # it has no version of its own and runs the default's.
    assert deploy.newest("suspension", "fujian_vocational") is None
    shandong = deploy.newest("suspension", "shandong")
    assert shandong.version == 1 and fixed not in shandong.segments["suspension_county"]


# -- deploy validation -------------------------------------------------------------------


def test_a_call_activity_naming_a_missing_segment_is_refused(app):
    wrong = TRANSFER.replace('calledElement="transfer_approvals"', 'calledElement="transfer_nope"')
    with pytest.raises(InvalidModel) as refused:
        deploy.deploy("transfer", wrong, TRANSFER_DMN)
    (problem,) = refused.value.problems
    assert problem.element == "approvals"
    assert "transfer_nope" in problem.message and "不存在" in problem.message
    assert deploy.newest("transfer").version == 1
    with pytest.raises(InvalidModel) as unparsed:
        parse("transfer", TRANSFER, TRANSFER_DMN)  # parse reads no files: segments are given
    assert [p.element for p in unparsed.value.problems] == ["approvals"]


def test_a_segment_follows_the_platform_rules_and_decides_no_outcome(app):
    cases = [
        (('name="county"', 'name="district"'), "county_lane_county", "泳道"),
        (('<bpmn:endEvent id="county_done"', '<bpmn:endEvent id="end_completed_x"'), None, None),
        (('id="county_start"', 'id="start"'), "start", "重复"),
    ]
    for (old, new), element, words in cases:
        segments = county_segment(old, new)
        with pytest.raises(InvalidModel) as refused:
            parse("suspension", SUSPENSION, SUSPENSION_DMN, segments)
        found = [(p.element, p.message) for p in refused.value.problems]
        if element is None:  # a renamed end event: both the rule and the dangling flow
            assert any("不决定办理结果" in msg for _, msg in found), found
            continue
        assert any(el == element and words in msg for el, msg in found), found


def test_a_stray_segment_file_in_a_variant_is_refused(app, shipped):
    (shipped / "variants" / "yuhong" / "segments").mkdir()
    (shipped / "variants" / "yuhong" / "segments" / "nobody_calls.bpmn").write_text(
        COUNTY, encoding="utf-8"
    )
    with pytest.raises(InvalidModel) as refused:
        deploy.validate_files()
    assert [p.element for p in refused.value.problems] == [
        "variants/yuhong/segments/nobody_calls.bpmn"
    ]


def test_the_api_deploys_a_posted_segment_and_keeps_the_others(api, world):
    fixed = APPROVALS.replace('name="市级教育行政部门审核"', 'name="市级教育行政部门复核"')
    resp = api("admin").post(
        "/api/v1/models/transfer/versions",
        json={
            "bpmn_xml": TRANSFER,
            "dmn": TRANSFER_DMN,
            "segments": {"transfer_approvals": fixed},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    version = deploy.newest("transfer")
    assert version.version == 2 and version.segments == {"transfer_approvals": fixed}
    # without segments: the newest version's stay
    edited = TRANSFER.replace('name="转学完成"', 'name="转学办结"')
    resp = api("admin").post(
        "/api/v1/models/transfer/versions", json={"bpmn_xml": edited, "dmn": TRANSFER_DMN}
    )
    assert resp.status_code == 201, resp.get_json()
    assert deploy.newest("transfer").segments == {"transfer_approvals": fixed}
    listed = api("admin").get("/api/v1/models").get_json()["items"]
    transfer = next(i for i in listed if (i["procedure"], i["variant"]) == ("transfer", "default"))
    assert transfer["versions"][0]["segments"] == ["transfer_approvals"]
    missing = TRANSFER.replace('calledElement="transfer_approvals"', 'calledElement="gone"')
    resp = api("admin").post("/api/v1/models/transfer/versions", json={"bpmn_xml": missing})
    assert resp.status_code == 422
    (field,) = resp.get_json()["error"]["fields"]
    assert field["element"] == "approvals" and "gone" in field["message"]


def test_a_version_from_before_segments_still_runs(world):
    """A stored version without the column's value (NULL) calls nothing and runs."""
    skip = deploy.newest("skip_grade")
    skip.segments = None
    assert deploy.parsed(skip).subprocess_specs == {}
    student = world.student("P1", grade=3)
    instance = skip_start(world, student)
    assert instance.status == "running" and engine.open_tasks(instance)


# -- the engine inside a segment ---------------------------------------------------------


def test_a_human_task_inside_a_segment_is_routed_timed_and_completed(world):
    county_with_property("review_reexamine", "dueDays", "3")
    student = world.student("P1", grade=3)
    second_user(world, "P1")
    instance = decide(world, start(world, student))  # the school's review
    (task,) = engine.open_tasks(instance)
    assert (task.step, task.lane, task.role, task.org.code) == (
        "county_review",
        "county",
        "county",
        "321202",
    )
    assert runtime.step_properties(instance, "county_review")["dueDays"] == "3"
    assert task.due_at == workdays.due_at(task.created_at, 3)  # not the default ten days
    assert instance.data["check"]["ok"] is True  # the data as the segment holds it
    instance = decide(world, instance)
    assert student.status == "suspended" and task.state == "completed"
    steps = [e.step for e in instance.events if e.step != "start"]
    assert steps[-2:] == ["county_review", "finalize"]


def test_four_eyes_holds_inside_a_segment(world):
    county_with_property("suspension_reexamination", "notBy", "initiator")
    student = world.student("P1", grade=3)
    second_user(world, "P1")
    instance = decide(world, decide(world, start(world, student)), "reexamine", "请复查")
    (task,) = engine.open_tasks(instance)
    assert task.step == "reexamination"
    entered_by = world.users["P1"]
    assert instance.initiator_id == entered_by.id
    with pytest.raises(Forbidden):
        engine.complete(task.id, entered_by, {"evidence": [upload(entered_by)], "note": "复查"})
    instance = decide(world, instance, evidence=[upload(world.users["P1"])], note="复查报告")
    assert open_steps(instance) == [("county_review", "321202")]


def test_a_return_from_inside_a_segment_goes_back_and_enters_it_again(world):
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    instance = act(world, act(world, instance))  # the receiving county, the sending school
    assert open_steps(instance) == [("from_county_review", "321202")]
    instance = act(world, instance, "return", "请补充户籍证明")
    assert open_steps(instance) == [("correct_application", "P3")]
    instance = act(world, instance, to_grade=4, reason="household_move", note="已补充")
    assert approve_all(world, instance)[-1] == ("from_county_review", "321202")
    assert (instance.status, student.school.code) == ("completed", "P3")


# -- migration inside a segment ----------------------------------------------------------


def at_the_sending_county(world):
    student = world.student("H1", grade=10)  # senior high across counties: the city reviews
    instance = engine.start("transfer", world.users["H2"], transfer_data(student, "H2"))
    instance = act(world, act(world, instance))
    assert open_steps(instance) == [("from_county_review", "321202")]
    return instance


def new_approvals(old: str, new: str) -> ProcessVersion:
    assert old in APPROVALS
    return deploy.deploy(
        "transfer",
        TRANSFER,
        TRANSFER_DMN,
        segments={"transfer_approvals": APPROVALS.replace(old, new)},
    )


def test_an_instance_inside_a_segment_migrates_to_a_change_ahead_of_it(world):
    instance = at_the_sending_county(world)
    v2 = new_approvals('name="市级教育行政部门审核"', 'name="市级教育行政部门复核"')
    decided = migration.plan(instance)
    assert decided.allowed, decided.reason
    migration.migrate(instance.id, world.users["admin"])
    assert instance.process_version_id == v2.id
    assert open_steps(instance) == [("from_county_review", "321202")]
    instance = act(world, instance)
    assert [t.name for t in engine.open_tasks(instance)] == ["市级教育行政部门复核"]
    approve_all(world, instance)
    assert instance.status == "completed"


def test_a_change_to_a_step_done_inside_a_segment_blocks_the_move(world):
    instance = act(world, at_the_sending_county(world))  # the sending county approved
    assert open_steps(instance)[0][0] == "city_review"
    new_approvals('name="转出地县级教育行政部门审核"', 'name="转出地县级审核（新）"')
    decided = migration.plan(instance)
    assert not decided.allowed and decided.blocking == ["from_county_review"]


# -- the diagram answer ------------------------------------------------------------------


def test_the_diagram_api_returns_the_segments_with_their_own_markers(api, world):
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    instance = act(world, act(world, instance))
    state = api("u3212").get(f"/api/v1/instances/{instance.id}/diagram").get_json()
    assert "approvals" in state["active"] and "from_county_review" in state["active"]
    (segment,) = state["segments"]
    assert segment["id"] == "transfer_approvals" and segment["name"] == "转学·转出地审核"
    assert segment["bpmn_xml"] == APPROVALS
    assert segment["active"] == ["from_county_review"]
    assert segment["completed"][:2] == ["approvals_start", "gw_same_county"]
    assert "to_county_review" not in segment["completed"] + segment["active"]
    assert segment["lanes"]["approvals_lane_from_county"] == "海陵区"
    assert segment["failed"] == [] and segment["rejected"] == []
    task = HumanTask.query.filter_by(instance_id=instance.id, state="open").one()
    assert task.step == "from_county_review"
