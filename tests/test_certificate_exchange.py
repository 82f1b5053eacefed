"""结业换发毕业证书 (issue 14 item 11): the whole path through the real engine, and every
rule refusing beside an accepted control."""

from __future__ import annotations

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from webapp.extensions import db
from webapp.models import Certificate, StatusHistory, china_today
from workflows import deploy, engine, variants

from .flows import act, evidence, open_steps
from .test_certificates import stamped
from .test_graduation import graduate_compulsory, record, review, senior, submit, vocational


def completed_senior(world):
    """A senior student who left with a 修业 certificate (required credits 100 < 116)."""
    s = senior(world, required=100)
    senior(world)  # a classmate who graduates
    stamped(world, submit(world, "H1"))
    assert s.status == "completed"
    (old,) = Certificate.query.filter_by(student_id=s.id).all()
    return s, old


def apply(world, student, school="H1"):
    data = {"evidence": evidence(world.users[school]), "note": "补考合格"}
    return engine.start("certificate_exchange", world.users[school], data, student_id=student.id)


def test_certificate_exchange_whole_path(world):
    s, old = completed_senior(world)
    assert old.kind == "修业证书"
    record(s, "必修", "required", "pass", 116)  # the make-up, imported
    instance = apply(world, s)
    assert open_steps(instance) == [("county_review", "321202")]
    assert instance.data["check"]["old_certificate"] == old.number
    instance = act(world, instance)
    assert (instance.status, s.status) == ("completed", "graduated")
    new = Certificate.query.filter_by(instance_id=instance.id).one()
    year = instance.finished_at.year
    assert new.kind == "高中毕业证书" and new.number.startswith(f"{year}H1")
    assert new.number != old.number and db.session.get(Certificate, old.id) is not None
    (row,) = StatusHistory.query.filter_by(instance_id=instance.id).all()
    assert (row.before, row.after["status"]) == ({"status": "completed"}, "graduated")
    assert row.after["old_certificate"] == old.number
    assert row.after["certificate"] == new.number
    assert row.after["graduated_on"] == china_today().isoformat()  # dated on the exchange


def test_completed_certificate(world):
    enrolled = senior(world, required=100)  # never verified: no 结业 certificate
    instance = apply(world, enrolled)
    assert (instance.status, instance.reason) == ("rejected", "completed_certificate")
    assert "000 ⑦ 第二十八条" in instance.reason_message


def test_exchange_period(world):
    s, old = completed_senior(world)
    record(s, "必修", "required", "pass", 116)
    old.issued_at -= relativedelta(months=25)
    db.session.commit()
    instance = apply(world, s)
    assert (instance.status, instance.reason) == ("rejected", "exchange_period")
    assert "两年内" in instance.reason_message and "000 ⑦ 第二十八条" in instance.reason_message
    old.issued_at += relativedelta(months=2)  # the control: 23 months ago, within two years
    db.session.commit()
    instance = apply(world, s)
    assert open_steps(instance) == [("county_review", "321202")]


def test_makeup_results_recorded(world):
    s, old = completed_senior(world)
    instance = apply(world, s)
    assert (instance.status, instance.reason) == ("rejected", "makeup_results_recorded")
    assert "002 第三十二条" in instance.reason_message
    old.issued_at -= timedelta(seconds=1)
    record(s, "必修", "required", "pass", 116)
    assert open_steps(apply(world, s)) == [("county_review", "321202")]


def test_now_graduating(world):
    s, _old = completed_senior(world)
    record(s, "必修", "required", "pass", 110)  # still short
    instance = apply(world, s)
    assert (instance.status, instance.reason) == ("rejected", "now_graduating")
    assert "必修学分 110，不足 116 学分" in instance.reason_message
    record(s, "必修", "required", "pass", 116)
    assert open_steps(apply(world, s)) == [("county_review", "321202")]


def test_now_graduating_checked_again_before_the_certificate(world):
    s, _old = completed_senior(world)
    record(s, "必修", "required", "pass", 116)
    instance = apply(world, s)
    record(s, "必修", "required", "pass", 100)  # corrected meanwhile
    instance = act(world, instance)
    assert (instance.status, instance.reason) == ("rejected", "now_graduating")
    assert s.status == "completed"
    assert Certificate.query.filter_by(instance_id=instance.id).count() == 0


def test_exchange_stage(world):
    junior = graduate_compulsory(world, 数学="core")
    review(world, submit(world, "J1"), "321202")
    assert junior.status == "completed"
    record(junior, "数学", "core", "pass")
    instance = apply(world, junior, "J1")
    assert (instance.status, instance.reason) == ("rejected", "exchange_stage")
    assert "000 第二十三条" in instance.reason_message


def completed_vocational(world, credits=150):
    world.orgs["V1"].plan_credits = credits
    s = vocational(world, internship="fail")
    stamped(world, submit(world, "V1"))
    assert s.status == "completed"
    return s


def test_vocational_exchange_within_the_longest_study_period(world):
    s = completed_vocational(world)
    record(s, "顶岗实习", "internship", "pass")  # the retaken internship
    instance = apply(world, s, "V1")
    deadline = instance.data["check"]["deadline"]
    assert deadline == f"{s.entry_year + 7}-08-31"  # 002 第三十条: at most seven years
    instance = act(world, instance)
    assert (instance.status, s.status) == ("completed", "graduated")
    new = Certificate.query.filter_by(instance_id=instance.id).one()
    assert new.kind == "中职毕业证书"
    late = completed_vocational(world)
    record(late, "顶岗实习", "internship", "pass")
    late.entry_year -= 8  # the refusal: entered eight years ago, past the longest period
    db.session.commit()
    instance = apply(world, late, "V1")
    assert (instance.status, instance.reason) == ("rejected", "exchange_period")
    assert "002 第三十条、第三十二条" in instance.reason_message


def test_vocational_plan_credits_in_the_exchange(world):
    s = completed_vocational(world)
    record(s, "顶岗实习", "internship", "pass")
    world.orgs["V1"].plan_credits = None
    db.session.commit()
    instance = apply(world, s, "V1")
    assert (instance.status, instance.reason) == ("rejected", "vocational_plan_credits")
    world.orgs["V1"].plan_credits = 170  # the control: the school sets its plan's number
    db.session.commit()
    assert open_steps(apply(world, s, "V1"))[0][0] == "county_review"


def test_now_graduating_asks_the_regions_graduation_tables(world):
    """The exchange has no graduation tables of its own: it asks the graduation version
    the student's region runs, even where the exchange itself has no override there."""
    s, _old = completed_senior(world)
    record(s, "必修", "required", "pass", 110)  # short of 116 by the default table
    assert apply(world, s).reason == "now_graduating"
    bpmn, dmn = deploy.read_files("graduation")
    dmn["graduation_senior.dmn"] = (
        dmn["graduation_senior.dmn"]
        .replace("&lt; 116</text>", "&lt; 110</text>")
        .replace("&lt; 144</text>", "&lt; 138</text>")
    )
    deploy.deploy("graduation", bpmn, dmn, variant="zhushan")
    variants.assign("321202", "zhushan")
    db.session.commit()
    instance = apply(world, s)
    assert instance.variant == "default"  # the exchange has no zhushan files
    assert open_steps(instance) == [("county_review", "321202")]
