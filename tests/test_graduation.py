"""Graduation verification (毕业验印): every classification rule with its reasons, county
changes, city stamping, certificate numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.models import Certificate, Instance, Result, RosterEntry, StatusHistory
from workflows import engine, rosters
from workflows.errors import Conflict, Forbidden, Invalid, NotFound

from .flows import open_steps, review

TERM = "2025-2026-2"
COMPULSORY_PASS = [
    ("语文", "core"),
    ("数学", "core"),
    ("外语", "core"),
    ("品德", "conduct"),
    ("体育", "pe"),
]
SENIOR_PASS = [
    ("必修", "required", 116),
    ("选修Ⅱ", "elective2", 6),
    ("选修Ⅰ", "elective", 22),
    ("操行", "conduct", None),
]
VOCATIONAL_PASS = [
    ("专业课", "required", 170),
    ("操行", "conduct", None),
    ("体育", "pe", None),
    ("顶岗实习", "internship", None),
    ("电工证", "certificate", None),
]


def record(student, subject, kind, result="pass", credits=None, term=TERM):
    for old in Result.query.filter_by(
        student_id=student.id, term=term, subject=subject, current=True
    ):
        old.current = False
    db.session.add(
        Result(
            student_id=student.id,
            term=term,
            subject=subject,
            kind=kind,
            result=result,
            credits=Decimal(str(credits)) if credits is not None else None,
        )
    )
    db.session.commit()


def graduate_compulsory(world, school="J1", **fails):
    """A grade-9 student (cohort 2024) with all results passed except `fails` (subject → kind)."""
    s = world.student(school, grade=9 if school.startswith("J") else 6, entry_year=2024)
    for subject, kind in COMPULSORY_PASS:
        record(s, subject, kind, "fail" if subject in fails else "pass")
    for subject, kind in fails.items():
        if subject not in dict(COMPULSORY_PASS):
            record(s, subject, kind, "fail")
    return s


def senior(world, school="H1", **credits):
    s = world.student(school, grade=12, entry_year=2024)
    for subject, kind, default in SENIOR_PASS:
        value = credits.get(kind, default)
        record(
            s,
            subject,
            kind,
            "fail" if value == "fail" else "pass",
            None if value == "fail" else value,
        )
    return s


def submit(world, school="J1", entry_year=2024) -> Instance:
    return engine.start(
        "graduation", world.users[school], {"school_code": school, "entry_year": entry_year}
    )


def entry(instance, student) -> RosterEntry:
    return RosterEntry.query.filter_by(instance_id=instance.id, student_id=student.id).one()


# -- compulsory ----------------------------------------------------------------------------


def test_compulsory_rules_with_the_deciding_reasons(world):
    ok = graduate_compulsory(world)
    core = graduate_compulsory(world, 数学="core")
    one_other = graduate_compulsory(world, 美术="other")
    two_other = graduate_compulsory(world, 美术="other", 音乐="other")
    conduct = graduate_compulsory(world, 品德="conduct")
    pe = graduate_compulsory(world, 体育="pe")
    no_pe = world.student("J1", grade=9, entry_year=2024)
    for subject, kind in COMPULSORY_PASS[:4]:
        record(no_pe, subject, kind)
    instance = submit(world)
    assert open_steps(instance) == [("county_review", "321202")]
    got = {
        s.id: (entry(instance, s).classification, entry(instance, s).reasons)
        for s in (ok, core, one_other, two_other, conduct, pe, no_pe)
    }
    assert got[ok.id] == ("graduated", ["语文、数学、外语及其他科目、思想品德、体育均合格"])
    assert got[core.id] == ("completed", ["语文、数学、外语中有不合格科目：数学"])
    assert got[one_other.id][0] == "graduated"
    assert got[two_other.id] == ("completed", ["其他科目两门及以上不合格：美术、音乐"])
    assert got[conduct.id] == ("completed", ["思想品德（操行）评定不合格"])
    assert got[pe.id] == ("completed", ["体育不合格"])
    assert got[no_pe.id] == ("completed", ["缺少体育成绩记录"])
    assert instance.data["check"]["counts"] == {"graduated": 2, "completed": 5}


def test_several_failures_list_every_reason(world):
    s = graduate_compulsory(world, 语文="core", 体育="pe")
    instance = submit(world)
    assert entry(instance, s).reasons == ["语文、数学、外语中有不合格科目：语文", "体育不合格"]


def test_a_make_up_pass_replaces_the_failure(world):
    s = graduate_compulsory(world, 数学="core")
    record(s, "数学", "core", "pass")  # the make-up exam
    assert entry(submit(world), s).classification == "graduated"


def test_left_after_a_year_is_left(world):
    """Changed for issue 14 item 4: a compulsory-stage student no longer gets a 肄业
    certificate (000 第二十三条, the stage has its own certificates); the senior student
    beside it keeps the old assertion."""
    from datetime import datetime

    def withdrawn(school, grade):
        s = world.student(school, grade=grade, entry_year=2024, status="withdrawn")
        db.session.add(
            StatusHistory(
                student_id=s.id,
                procedure="withdrawal",
                before={},
                after={},
                at=datetime(2025, 10, 1),
            )
        )
        db.session.commit()
        return s

    junior = withdrawn("J1", 8)
    graduate_compulsory(world)
    instance = submit(world)
    assert RosterEntry.query.filter_by(instance_id=instance.id, student_id=junior.id).count() == 0
    (not_left,) = instance.data["check"]["not_left"]
    assert (not_left["student_id"], not_left["rule"]) == (junior.id, "leaving_certificate_stage")
    s = withdrawn("H1", 11)
    senior(world)
    e = entry(submit(world, "H1"), s)
    assert (e.classification, e.reasons) == ("left", ["已离校，在校学习满一年，发给肄业证书"])


def test_compulsory_path_needs_no_city_and_issues_numbered_certificates(world):
    students = [graduate_compulsory(world) for _ in range(3)] + [
        graduate_compulsory(world, 数学="core")
    ]
    instance = review(world, submit(world), "321202")
    assert instance.status == "completed"
    certs = Certificate.query.filter_by(instance_id=instance.id).order_by(Certificate.number).all()
    year = instance.finished_at.year
    # 4-digit year + last four characters of the school code + 4-digit serial (002 第四十一条)
    assert [c.number for c in certs] == [f"{year}J1{n:04d}" for n in range(1, 5)]
    assert [c.number[-4:] for c in certs] == ["0001", "0002", "0003", "0004"]
    assert sorted(c.kind for c in certs) == [
        "义务教育证书",  # issue 14 item 8: not 修业证书 (000 第二十三条)
        "初中毕业证书",
        "初中毕业证书",
        "初中毕业证书",
    ]
    assert [s.status for s in students] == ["graduated", "graduated", "graduated", "completed"]
    rows = StatusHistory.query.filter_by(instance_id=instance.id).all()
    assert len(rows) == 4 and {r.after["status"] for r in rows} == {"graduated", "completed"}


# -- senior and vocational -----------------------------------------------------------------


def test_senior_credit_rules(world):
    ok = senior(world)
    required = senior(world, required=115)
    elective2 = senior(world, elective2=5)
    total = senior(world, elective=21.5)
    conduct = senior(world, conduct="fail")
    instance = submit(world, "H1")
    assert entry(instance, ok).classification == "graduated"
    assert entry(instance, ok).reasons == ["必修 116、选修Ⅱ 6、总学分 144，操行合格"]
    assert entry(instance, required).reasons == [
        "必修学分 115，不足 116 学分",
        "总学分 143，不足 144 学分",
    ]
    assert entry(instance, elective2).reasons == [
        "选修Ⅱ学分 5，不足 6 学分",
        "总学分 143，不足 144 学分",
    ]
    assert entry(instance, total).reasons == ["总学分 143.5，不足 144 学分"]
    assert entry(instance, conduct).reasons == ["操行评定不合格"]


def vocational(world, **overrides):
    """A V1 student of cohort 2024 with every vocational result passed except `overrides`."""
    s = world.student("V1", grade=12, entry_year=2024)
    for subject, kind, credits in VOCATIONAL_PASS:
        value = overrides.get(kind, "pass")
        if value != "missing":
            record(s, subject, kind, value, credits)
    return s


def test_vocational_seven_conditions(world):
    ok = vocational(world)
    no_cert = vocational(world, certificate="missing")
    internship = vocational(world, internship="fail")
    pe = vocational(world, pe="fail")
    credits = vocational(world, required="fail")
    world.orgs["V1"].plan_credits = 170  # the school's filed teaching plan (002 第三十一条)
    db.session.commit()
    instance = submit(world, "V1")
    assert entry(instance, ok).classification == "graduated"
    assert entry(instance, no_cert).reasons == ["未取得相关专业国家职业资格证书或技能等级证书"]
    assert entry(instance, internship).reasons == ["顶岗实习不合格"]
    assert entry(instance, pe).reasons == ["体育不合格"]
    assert entry(instance, credits).reasons == ["毕业学分 0，不足本校教学计划规定的 170 学分"]
    assert {entry(instance, s).classification for s in (no_cert, internship, pe, credits)} == {
        "completed"
    }


def test_senior_goes_to_the_city_for_stamping(world):
    ok, short = senior(world), senior(world, required=100)
    instance = review(world, submit(world, "H1"), "321202")
    assert open_steps(instance) == [("city_verify", "3212")]
    assert ok.status == "enrolled"  # nothing changes before the stamp
    instance = review(world, instance, "3212")
    assert instance.status == "completed"
    assert (ok.status, short.status) == ("graduated", "completed")
    kinds = {c.student_id: c.kind for c in Certificate.query.filter_by(instance_id=instance.id)}
    # issue 14 item 8: a senior non-graduate gets a 修业证书 (000 第二部分 第二十三条)
    assert kinds == {ok.id: "高中毕业证书", short.id: "修业证书"}


def test_city_returns_to_the_county(world):
    senior(world)
    instance = review(world, submit(world, "H1"), "321202")
    instance = review(world, instance, "3212", "return", "请核实学分")
    assert open_steps(instance) == [("county_review", "321202")]


# -- the county's changes ------------------------------------------------------------------


def test_county_strikes_and_reclassifies_on_its_step(world):
    a, b, c = (graduate_compulsory(world) for _ in range(3))
    instance = submit(world)
    (task,) = engine.open_tasks(instance)
    county = world.users["321202"]
    rosters.change_entry(task.id, county, entry(instance, a).id, "strike", "学籍信息待核实")
    rosters.change_entry(
        task.id, county, entry(instance, b).id, "reclassify", "体育补考不合格", "completed"
    )
    with pytest.raises(Invalid) as err:
        rosters.change_entry(task.id, county, entry(instance, c).id, "strike", "  ")
    assert "comment" in err.value.fields
    instance = review(world, instance, "321202")
    assert (a.status, b.status, c.status) == ("enrolled", "completed", "graduated")
    numbers = {
        e.student_id: e.certificate_number
        for e in RosterEntry.query.filter_by(instance_id=instance.id)
    }
    assert numbers[a.id] is None and numbers[b.id] and numbers[c.id]
    assert Certificate.query.filter_by(student_id=a.id).count() == 0
    assert entry(instance, b).comment == "体育补考不合格"


def test_roster_changes_only_by_the_county_on_its_open_step(world):
    a = graduate_compulsory(world)
    instance = submit(world)
    (task,) = engine.open_tasks(instance)
    e = entry(instance, a)
    with pytest.raises(NotFound):
        rosters.change_entry(task.id, world.users["J1"], e.id, "strike", "x")
    instance = review(world, instance, "321202")
    with pytest.raises((Conflict, NotFound)):
        rosters.change_entry(task.id, world.users["321202"], e.id, "strike", "太晚了")


def test_city_may_not_change_the_roster(world):
    senior(world)
    instance = review(world, submit(world, "H1"), "321202")
    (task,) = engine.open_tasks(instance)
    e = RosterEntry.query.filter_by(instance_id=instance.id).first()
    with pytest.raises(Forbidden):
        rosters.change_entry(task.id, world.users["3212"], e.id, "strike", "验印时发现问题")


def test_county_return_and_school_resubmits_after_make_ups(world):
    s = graduate_compulsory(world, 数学="core")
    instance = review(world, submit(world), "321202", "return", "请导入补考成绩后重新提交")
    assert open_steps(instance) == [("resubmit", "J1")]
    record(s, "数学", "core", "pass")
    (task,) = engine.open_tasks(instance)
    instance = engine.complete(task.id, world.users["J1"], {"note": "已导入补考成绩"})
    assert entry(instance, s).classification == "graduated"
    assert RosterEntry.query.filter_by(instance_id=instance.id).count() == 1


def test_county_rejects(world):
    s = graduate_compulsory(world)
    instance = review(world, submit(world), "321202", "reject", "名册与实际不符")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert s.status == "enrolled"


# -- start rules ---------------------------------------------------------------------------


def test_empty_cohort_is_rejected_with_the_rule(world):
    world.student("J1", grade=8, entry_year=2024)  # not in a graduating grade
    instance = submit(world)
    assert (instance.status, instance.reason) == ("rejected", "empty_cohort")


def test_one_open_graduation_per_cohort(world):
    graduate_compulsory(world)
    submit(world)
    with pytest.raises(Conflict, match="正在办理"):
        submit(world)


def test_only_the_own_school_submits(world):
    with pytest.raises(Invalid) as err:
        engine.start("graduation", world.users["J2"], {"school_code": "J1", "entry_year": 2024})
    assert "school_code" in err.value.fields


def test_final_step_runs_once(world):
    import handlers
    from workflows.services import EngineContext as Context

    graduate_compulsory(world)
    instance = review(world, submit(world), "321202")
    before = Certificate.query.count()
    handlers.HANDLERS["graduation.finalize"](Context(instance, None, instance.data))
    assert Certificate.query.count() == before


def test_one_stage_per_cohort_is_a_named_rule(world):
    """A school of two stages submits each stage's cohort apart (control: one stage goes on)."""
    world.org("JH1", "海陵完全中学", "school", "321202", stages="junior+senior", ownership="public")
    world.student("JH1", grade=9, entry_year=2024)
    world.student("JH1", grade=12, entry_year=2024)
    world.student("JH1", grade=9, entry_year=2025)
    db.session.commit()
    instance = submit(world, "JH1")
    assert (instance.status, instance.reason) == ("rejected", "one_stage")
    assert instance.reason_message == "同一批毕业验印只能包含一个学段的学生，请按学段分别提交。"
    control = submit(world, "JH1", entry_year=2025)
    assert control.status == "running" and control.data["check"]["stage"] == "junior"
