"""Regional variants: files on disk over the default, versions and the fallback, county over
city, the variant a new instance takes and records, the CLI and the admin page, and every
shipped variant's scenarios run green through the real engine (in the test-bench sandbox)."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from webapp.extensions import db
from webapp.models import AuditLog, Instance, Organization, ProcessVersion, china_today
from workflows import decisions, deploy, engine, testbench, variants
from workflows.specs import InvalidModel

from .flows import approve_all, at, transfer_data
from .test_suspension import START, suspend, suspension_data

SHIPPED = deploy.shipped_variants()


def assign(world, code: str, variant: str | None) -> None:
    world.orgs[code].variant = variant
    db.session.commit()


# -- every shipped variant runs its scenarios green ----------------------------------------


def test_the_four_variants_are_shipped():
    assert SHIPPED == ["fujian_vocational", "shandong", "yuhong", "zhushan"]


@pytest.mark.parametrize("variant", ["default", *SHIPPED])
def test_every_variant_runs_its_scenarios_green(app, variant):
    reports = testbench.run_variant(variant)
    assert reports, f"{variant} has no scenarios"
    failures = [
        f"{r.procedure} / {x.name}: {x.difference} (path {x.path})"
        for r in reports
        for x in r.results
        if not x.passed
    ] + [f"{r.procedure}: {r.problems}" for r in reports if r.problems]
    assert not failures, "\n".join(failures)
    # A scenario that runs the variant's own files says so in the variant it records.
    for report in reports:
        recorded = {x.variant for x in report.results if x.variant}
        own = deploy.overrides(report.procedure, variant) or variant == "default"
        assert recorded == {variant if own else "default"}, (report.procedure, recorded)


@pytest.mark.parametrize("variant", SHIPPED)
def test_what_a_variant_overrides_has_scenarios(variant):
    covered = set(testbench.procedures_with_scenarios(variant))
    overridden = set(variants.overridden_files(variant)) - {"registration"}  # tested below
    assert overridden <= covered, overridden - covered


# -- files on disk -------------------------------------------------------------------------


def test_a_variant_overrides_only_its_files():
    default_bpmn, default_dmn = deploy.read_files("suspension")
    bpmn, dmn = deploy.read_files("suspension", "zhushan")
    assert bpmn == default_bpmn  # zhushan keeps the default BPMN, overrides three tables
    assert (
        set(dmn)
        == set(default_dmn)
        == {
            "suspension_graduating_year.dmn",  # shipped by the default since issue 14.9
            "suspension_length.dmn",
            "suspension_threshold.dmn",
        }
    )
    assert dmn["suspension_threshold.dmn"] != default_dmn["suspension_threshold.dmn"]
    _, yuhong = deploy.read_files("suspension", "yuhong")
    assert yuhong["suspension_length.dmn"] == default_dmn["suspension_length.dmn"]
    assert deploy.overrides("transfer", "shandong") == ["transfer.bpmn"]
    assert deploy.overrides("transfer", "zhushan") == [  # the papers: one segment
        "transfer_papers.dmn",
        "transfer_window.dmn",
        "segments/transfer_approvals.bpmn",
    ]
    assert deploy.overrides("skip_grade", "zhushan") == []
    assert variants.overridden_files("shandong") == {
        "transfer": ["transfer.bpmn"],
        "suspension": [
            "suspension_graduating_year.dmn",
            "suspension_mandatory.dmn",
            "suspension_threshold.dmn",
            "segments/suspension_county.bpmn",
        ],
        "skip_grade": ["skip_grade_policy.dmn"],
        "repeat_grade": ["repeat_grade_policy.dmn"],
    }


SWITCHES = [
    ("skip_grade", "shandong", "skip_grade_policy", {"allow_skip_grade": False}),
    *(
        ("repeat_grade", v, "repeat_grade_policy", {"allow_repeat_grade": False})
        for v in ("shandong", "fujian_vocational")
    ),
    (
        "registration",
        "fujian_vocational",
        "registration_numbering",
        {"status_number_format": "fujian_vocational"},
    ),
]


@pytest.mark.parametrize(("procedure", "variant", "decision", "value"), SWITCHES)
def test_a_regional_switch_is_a_one_row_table_the_variant_ships_alone(
    procedure, variant, decision, value
):
    default_bpmn, default_dmn = deploy.read_files(procedure)
    bpmn, dmn = deploy.read_files(procedure, variant)
    assert bpmn == default_bpmn  # a fix to the default diagram reaches the variant
    assert deploy.overrides(procedure, variant) == [f"{decision}.dmn"]
    assert [name for name in dmn if dmn[name] != default_dmn[name]] == [f"{decision}.dmn"]
    (row,) = decisions.collect(decisions.table(dmn, decision), {})
    assert row.items() >= value.items()
    (default,) = decisions.collect(decisions.table(default_dmn, decision), {})
    assert default.keys() == row.keys() and default != row
    assert f"<spiffworkflow:calledDecisionId>{decision}<" in bpmn


def test_an_unknown_variant_has_no_files():
    with pytest.raises(KeyError):
        deploy.read_files("transfer", "atlantis")


def test_a_misnamed_variant_file_stops_the_start(tmp_path, monkeypatch):
    folder = tmp_path / "variants" / "somewhere"
    folder.mkdir(parents=True)
    (folder / "suspention_threshold.dmn").write_text("<x/>", encoding="utf-8")
    monkeypatch.setattr(deploy, "VARIANTS_DIR", tmp_path / "variants")
    with pytest.raises(InvalidModel) as exc:
        deploy.validate_files()
    assert exc.value.problems[0].element == "variants/somewhere/suspention_threshold.dmn"


def test_a_version_without_a_required_table_is_refused(app):
    bpmn, dmn = deploy.read_files("suspension")
    del dmn["suspension_length.dmn"]
    with pytest.raises(InvalidModel) as exc:
        deploy.deploy("suspension", bpmn, dmn, variant="zhushan")
    assert [p.element for p in exc.value.problems] == ["suspension_length"]


# -- versions and the fallback -------------------------------------------------------------


def test_sync_deploys_each_override_as_a_version_of_its_variant(app):
    rows = {
        (v.procedure, v.variant)
        for v in ProcessVersion.query.filter(ProcessVersion.variant != "default")
    }
    expected = {(p, v) for v in SHIPPED for p in variants.overridden_files(v)}
    assert rows == expected
    before = ProcessVersion.query.count()
    deploy.sync_files()  # nothing changed on disk: no new version
    assert ProcessVersion.query.count() == before


def test_latest_falls_back_to_the_default(app):
    default = deploy.latest("skip_grade")
    assert deploy.newest("skip_grade", "zhushan") is None
    assert deploy.latest("skip_grade", "zhushan").id == default.id
    assert deploy.latest("suspension", "zhushan").variant == "zhushan"
    # A variant's first own version is its version 1, not the default's next one.
    bpmn, dmn = deploy.read_files("skip_grade")
    own = deploy.deploy(
        "skip_grade", bpmn.replace('name="学校审核', 'name="学校审核（竹山）', 1), dmn, "zhushan"
    )
    assert (own.variant, own.version) == ("zhushan", 1)
    assert deploy.latest("skip_grade", "zhushan").id == own.id
    assert deploy.latest("skip_grade").id == default.id
    # The same content as the default's is still a version of its own variant.
    same = deploy.deploy("skip_grade", bpmn, dmn, "yuhong")
    assert same.id != default.id and same.variant == "yuhong"


# -- county over city ----------------------------------------------------------------------


def test_a_county_assignment_wins_over_its_city(world):
    p1, p3, p4 = world.orgs["P1"], world.orgs["P3"], world.orgs["P4"]
    assert variants.variant_for(p1) == "default"
    assign(world, "3212", "zhushan")
    assign(world, "321202", "yuhong")
    assert variants.variant_for(p1) == "yuhong"  # its county's
    assert variants.variant_for(world.orgs["321202"]) == "yuhong"
    assert variants.variant_for(p3) == "zhushan"  # 高港区 has none: 泰州市's
    assert variants.variant_for(p4) == "default"  # 扬州市 has none
    assert variants.variant_for(world.orgs["3212"]) == "zhushan"
    assign(world, "321202", None)
    assert variants.variant_for(p1) == "zhushan"
    rows = {r.org.code: r for r in variants.assignments()}
    assert (rows["321202"].own, rows["321202"].runs) == (None, "zhushan")
    assert rows["321202"].inherited_from.code == "3212"
    assert set(rows) == {"3212", "321202", "321203", "3210", "321002"}


# -- the variant an instance takes and records ---------------------------------------------


def test_an_instance_runs_and_records_its_county_variant(world):
    assign(world, "3212", "yuhong")
    assign(world, "321202", "zhushan")
    student = world.student("P1", grade=3)
    instance = suspend(world, student, reason="illness", absence_hours=0)
    assert (instance.variant, instance.process_version.variant) == ("zhushan", "zhushan")
    # 竹山: illness suffices, three months from the illness (suspension_length.dmn).
    assert student.suspended_until == START + relativedelta(months=3)
    yuhong = engine.start(
        "suspension",
        world.users["P3"],
        suspension_data(world.users["P3"], absence_hours=500, start_date=china_today().isoformat()),
        student_id=world.student("P3", grade=3).id,
    )
    assert yuhong.variant == "yuhong"
    assert (yuhong.status, yuhong.reason) == ("rejected", "absence_threshold")
    assert "满 3 个月" in yuhong.reason_message


def test_a_variant_without_the_procedure_records_the_default(world):
    from .flows import evidence

    assign(world, "321202", "zhushan")  # zhushan does not override skip_grade
    student = world.student("P1", grade=4)
    data = {"to_grade": 5, "to_class_name": "1", "evidence": evidence(world.users["P1"])}
    instance = engine.start("skip_grade", world.users["P1"], data, student_id=student.id)
    assert instance.variant == "default"
    assert instance.process_version_id == deploy.latest("skip_grade").id


def test_a_two_sided_procedure_takes_the_receiving_side_variant(world):
    assign(world, "321203", "fujian_vocational")  # receiving county; its own window table
    senior = world.student("H1", grade=11)
    instance = engine.start("transfer", world.users["H2"], transfer_data(senior, "H2"))
    assert instance.variant == "fujian_vocational"
    approve_all(world, instance)
    assert instance.status == "completed" and senior.school.code == "H2"

    # Back from H2 (高港区, still fujian_vocational: now the sending side) to H1 (海陵区).
    back = engine.start("transfer", world.users["H1"], transfer_data(senior, "H1", to_grade=11))
    assert back.variant == "default"


def test_where_the_sending_school_starts_its_variant_decides(world):
    assign(world, "321202", "shandong")  # the sending county starts: shandong
    senior = world.student("H1", grade=11)
    instance = engine.start("transfer", world.users["H1"], transfer_data(senior, "H2"))
    assert instance.variant == "shandong"
    path = approve_all(world, instance)
    assert path == [("city_review", "3212"), ("to_school_confirm", "H2")]
    assert senior.school.code == "H2"


def test_running_instances_keep_their_version_when_the_assignment_changes(world):
    student = world.student("P1", grade=3)
    instance = engine.start(
        "suspension", world.users["P1"], suspension_data(world.users["P1"]), student.id
    )
    assert instance.variant == "default"
    assign(world, "321202", "zhushan")
    approve_all_with_four_eyes(world, instance)
    assert instance.variant == "default"
    assert student.suspended_until == START + relativedelta(years=1)


def approve_all_with_four_eyes(world, instance):
    from .test_suspension import decide

    while engine.open_tasks(instance):
        instance = decide(world, instance)
    return instance


def test_shandong_forbids_skipping_a_grade(world):
    from .flows import evidence

    assign(world, "3212", "shandong")
    student = world.student("P1", grade=3)
    instance = engine.start(
        "skip_grade",
        world.users["P1"],
        {"to_grade": 4, "to_class_name": "2", "evidence": evidence(world.users["P1"])},
        student.id,
    )
    assert (instance.variant, instance.status, instance.reason) == (
        "shandong",
        "rejected",
        "skip_grade_allowed",
    )


def test_fujian_vocational_registers_ten_digit_status_numbers(world):
    from .test_registration import admitted, city_review, registered, review, submit

    assign(world, "321203", "fujian_vocational")
    rows = [admitted(n, school="V1", grade=10, birth=date(2010, 10, 1)) for n in (1, 2)]
    instance = city_review(world, review(world, submit(world, rows, school="V1"), county="321203"))
    assert (instance.variant, instance.status) == ("fujian_vocational", "completed")
    numbers = sorted(s.status_number for s in registered(rows))
    assert numbers == ["2603010001", "2603010002"]


def test_an_instance_of_a_version_without_tables_uses_the_shipped_ones(world):
    """Versions deployed before the numbers moved into tables keep running."""
    student = world.student("P1", grade=3)
    instance = engine.start(
        "suspension", world.users["P1"], suspension_data(world.users["P1"]), student.id
    )
    instance.process_version.dmn = {}
    db.session.commit()
    instance = approve_all_with_four_eyes(world, instance)
    assert student.status == "suspended"


# -- command line --------------------------------------------------------------------------


def test_cli_assign_and_clear(runner, world):
    result = runner.invoke(args=["variant", "assign", "321202", "zhushan"])
    assert result.exit_code == 0, result.output
    assert "海陵区（321202）已指定为 竹山县（zhushan）" in result.stdout
    assert db.session.get(Organization, world.orgs["321202"].id).variant == "zhushan"
    log = AuditLog.query.filter_by(action="variant.assign").one()
    assert log.before == {"variant": None} and log.after == {"variant": "zhushan", "org": "321202"}

    result = runner.invoke(args=["variant", "assign", "3212", "shandong"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["variant", "assign", "321202", "default"])
    assert result.exit_code == 0, result.output
    assert "取消了自己的指定" in result.stdout and "山东（shandong）" in result.stdout
    db.session.expire_all()
    assert db.session.get(Organization, world.orgs["321202"].id).variant is None
    assert variants.variant_for(world.orgs["P1"]) == "shandong"

    listing = runner.invoke(args=["variant", "list"])
    assert listing.exit_code == 0
    assert "3212 泰州市：指定 shandong，执行 shandong" in listing.stdout
    assert "  321202 海陵区：指定 —，执行 shandong" in listing.stdout


@pytest.mark.parametrize(
    ("code", "variant", "words"),
    [
        ("321202", "atlantis", "没有名为“atlantis”的地区变体"),
        ("P1", "zhushan", "只能指定给市或县（区）"),
        ("32", "zhushan", "只能指定给市或县（区）"),
        ("999999", "zhushan", "单位代码 999999 不存在"),
    ],
)
def test_cli_refuses(runner, world, code, variant, words):
    result = runner.invoke(args=["variant", "assign", code, variant])
    assert result.exit_code == 1
    assert words in result.stderr
    assert AuditLog.query.filter_by(action="variant.assign").count() == 0
    assert all(o.variant is None for o in Organization.query)


# -- admin page ----------------------------------------------------------------------------


def test_admin_page_lists_and_assigns(login, world):
    assign(world, "3212", "zhushan")
    client = login("admin")
    page = client.get("/admin/variants").get_data(as_text=True)
    assert "地区变体" in page and 'id="org-321202"' in page
    assert "随泰州市" in page and "suspension_threshold.dmn" in page
    resp = client.post("/admin/variants/assign", data={"org_code": "321202", "variant": "yuhong"})
    assert resp.status_code == 302
    page = client.get("/admin/variants").get_data(as_text=True)
    assert "海陵区（321202）已指定为 沈阳市于洪区（yuhong）" in page
    db.session.expire_all()
    assert db.session.get(Organization, world.orgs["321202"].id).variant == "yuhong"
    log = AuditLog.query.filter_by(action="variant.assign").one()
    assert log.user_id == world.users["admin"].id


def test_admin_page_refuses_a_school_code(login, world):
    client = login("admin")
    resp = client.post(
        "/admin/variants/assign",
        data={"org_code": "P1", "variant": "yuhong"},
        follow_redirects=True,
    )
    assert "只能指定给市或县（区）" in resp.get_data(as_text=True)
    assert world.orgs["P1"].variant is None


def test_admin_page_runs_the_bench(login, world):
    client = login("admin")
    page = client.get("/admin/variants/shandong/bench?procedure=skip_grade").get_data(as_text=True)
    assert "全部通过 1/1" in page and "山东不跳级" in page and "check_rules" in page
    assert client.get("/admin/variants/atlantis/bench").status_code == 404
    assert Instance.query.count() == 0  # the sandbox wrote nothing here


@pytest.mark.parametrize("username", ["uP1", "u321202", "u3212"])
def test_admin_pages_are_403_for_everyone_else(login, world, username):
    client = login(username)
    assert client.get("/admin/variants").status_code == 403
    resp = client.post("/admin/variants/assign", data={"org_code": "321202", "variant": "yuhong"})
    assert resp.status_code == 403
    assert client.get("/admin/variants/default/bench").status_code == 403
    assert world.orgs["321202"].variant is None


def test_admin_pages_need_a_login(client, world):
    resp = client.get("/admin/variants")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_procedure_list_shows_the_versions_the_callers_variant_runs(api, world):
    bpmn, dmn = deploy.read_files("skip_grade")
    deploy.deploy("skip_grade", bpmn.replace('name="学校审核', 'name="学校审核（二）', 1), dmn)
    variants.assign("3212", "shandong")  # 泰州 runs shandong; 扬州 (P4) the default
    db.session.commit()

    def version(username: str) -> int:
        items = api(username).get("/api/v1/procedures").get_json()["items"]
        return next(i["version"] for i in items if i["key"] == "skip_grade")

    assert (version("uP1"), version("uP4")) == (1, 2)


def test_yuhong_transfer_is_started_by_the_sending_school(world, login):
    """yuhong: the sending school names the receiving school; the receiving school confirms,
    the sending district approves. A default-region receiving school still starts its own."""
    from .flows import open_steps

    variants.assign("321202", "yuhong")  # 海陵区 (P1) runs yuhong; 高港区 (P3) the default
    db.session.commit()
    student = world.student("P1", grade=4)
    school = login("uP1")
    form = school.get("/transfers/new").get_data(as_text=True)
    assert 'name="to_school_code"' in form  # typed in: the caller is the sending side
    resp = school.post(
        "/transfers/new",
        data={
            "id_number": student.id_number,
            "name": student.name,
            "to_school_code": "P3",
            "to_grade": "4",
            "to_class_name": "2",
            "reason": "household_move",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    instance = Instance.query.one()
    assert (instance.variant, open_steps(instance)) == ("yuhong", [("to_school_confirm", "P3")])
    approve_all(world, instance)
    assert student.school.code == "P3"

    other = world.student("P1", grade=5)
    default = engine.start("transfer", world.users["P3"], transfer_data(other, "P3"))
    assert (default.variant, open_steps(default)) == ("default", [("to_county_review", "321203")])
    refused = school.post(
        "/transfers/new",
        data={
            "id_number": world.student("P2", grade=4).id_number,
            "name": "x",
            "to_school_code": "P3",
            "to_grade": "4",
            "reason": "other",
        },
    )
    assert refused.status_code == 422


# -- when a transfer may be handled (transfer_window.dmn) ----------------------------------


def test_zhushan_transfers_only_around_the_start_and_end_of_a_term(world):
    variants.assign("321203", "zhushan")  # the receiving side (P3) decides the variant
    db.session.commit()
    with at(date(2026, 11, 25)):
        closed = engine.start(
            "transfer", world.users["P3"], transfer_data(world.student("P1", grade=4), "P3")
        )
    assert (closed.variant, closed.reason) == ("zhushan", "transfer_window")
    assert "开学前后一周" in closed.reason_message
    with at(date(2027, 1, 20)):
        open_ = engine.start(
            "transfer", world.users["P3"], transfer_data(world.student("P1", grade=4), "P3")
        )
    assert open_.status == "running"


def test_fujian_vocational_transfers_after_a_term_in_a_terms_first_month(world):
    variants.assign("3212", "fujian_vocational")
    db.session.commit()

    def start(student, day):
        with at(day):
            return engine.start("transfer", world.users["V1"], transfer_data(student, "V1"))

    newcomer = world.student("V2", grade=10, entry_year=2026)
    assert start(newcomer, date(2026, 11, 25)).reason == "transfer_window"  # not a term yet
    assert (
        start(world.student("V2", grade=11, entry_year=2025), date(2027, 3, 10)).status == "running"
    )
    late = start(world.student("V2", grade=11, entry_year=2025), date(2027, 5, 10))
    assert late.reason == "transfer_window" and "第一个月" in late.reason_message
    primary = engine.start(
        "transfer", world.users["P3"], transfer_data(world.student("P1", grade=4), "P3")
    )
    assert primary.status == "running"  # other stages are not limited


def test_a_version_without_the_window_table_transfers_all_year(world):
    bpmn, _ = deploy.read_files("transfer")
    deploy.deploy("transfer", bpmn, {})
    db.session.commit()
    instance = engine.start(
        "transfer", world.users["P3"], transfer_data(world.student("P1", grade=4), "P3")
    )
    assert instance.status == "running" and instance.process_version.dmn == {}


def test_the_start_page_shows_what_the_regions_tables_say(world, login):
    """A registrar in zhushan sees zhushan's three months, not the default's numbers."""
    student = world.student("P1", grade=3)
    page = login("uP1").get(f"/students/{student.id}/start/suspension").get_data(as_text=True)
    assert 'id="region-rules"' in page and "默认（江苏泰州" in page
    assert "缺课超过 210 课时" in page and "竹山" not in page
    assign(world, "321202", "zhushan")
    page = login("uP1").get(f"/students/{student.id}/start/suspension").get_data(as_text=True)
    assert "竹山：因病休学三个月" in page
    transfer = login("uP1").get("/transfers/new").get_data(as_text=True)
    assert "前后一周" in transfer  # zhushan's transfer window and papers tables
    assert "三个月内有效" in transfer
