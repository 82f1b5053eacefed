"""Who gets which certificate (issue 14 items 4 and 8): the 肄业 rules, stamped and numbered
at the 验印 like the others, the certificate kinds per stage, a vocational school's credits."""

from __future__ import annotations

from webapp.extensions import db
from webapp.imports import import_orgs
from webapp.models import Certificate, Organization, RosterEntry
from workflows import engine

from .flows import act, actor_for, evidence, review
from .test_graduation import graduate_compulsory, record, senior, submit, vocational


def withdraw(world, student, school, reason="personal", automatic=False):
    """A withdrawal through the engine: entered by the school, or started by the platform."""
    data = {"reason": reason, "evidence": [] if automatic else evidence(world.users[school])}
    if automatic:
        instance = engine.start_automatic("withdrawal", student, data, "休学期满未申请复学")
        db.session.commit()
    else:
        instance = engine.start("withdrawal", world.users[school], data, student_id=student.id)
    second = f"u{school}b"
    if second not in world.users:
        world.user(second, school, "school")
    instance = review(world, instance, second)
    instance = act(world, instance)  # the school's county
    assert (instance.status, student.status) == ("completed", "withdrawn")
    return instance.data["result"]["leaving_certificate"]


def on_roster(instance, student) -> RosterEntry | None:
    return RosterEntry.query.filter_by(instance_id=instance.id, student_id=student.id).first()


def stamped(world, instance):
    """County review, then the city's 验印."""
    instance = act(world, instance)
    (task,) = engine.open_tasks(instance)
    return engine.complete(task.id, actor_for(world, task), {"decision": "approve"})


def test_leaving_certificate_automatic(world):
    automatic = world.student("H1", grade=11, entry_year=2024)
    applied = world.student("H1", grade=11, entry_year=2024)
    verdict = withdraw(world, automatic, "H1", "suspension_not_resumed", automatic=True)
    assert verdict["rule"] == "leaving_certificate_automatic"
    assert "自动退学学生，不发给肄业证书（000 ⑦ 第二十九条）" in verdict["message"]
    assert withdraw(world, applied, "H1")["ok"] is True  # the control: withdrew on request
    assert Certificate.query.count() == 0  # nothing issued before the 验印
    senior(world)
    instance = submit(world, "H1")
    assert on_roster(instance, automatic) is None
    (refused,) = instance.data["check"]["not_left"]
    assert (refused["student_id"], refused["rule"]) == (
        automatic.id,
        "leaving_certificate_automatic",
    )
    assert on_roster(instance, applied).classification == "left"
    instance = stamped(world, instance)
    (certificate,) = Certificate.query.filter_by(student_id=applied.id).all()
    year = instance.finished_at.year
    # numbered like the cohort's others: 4-digit year + school + 4-digit serial, after the stamp
    assert certificate.kind == "肄业证书" and certificate.number.startswith(f"{year}H1")
    numbers = [c.number for c in Certificate.query.filter_by(instance_id=instance.id)]
    assert len(numbers) == 2 and len(set(numbers)) == 2
    assert Certificate.query.filter_by(student_id=automatic.id).count() == 0


def test_leaving_certificate_stage(world):
    junior = world.student("J1", grade=8, entry_year=2024)
    verdict = withdraw(world, junior, "J1", "lost_ability")
    assert verdict["rule"] == "leaving_certificate_stage"
    assert "000 第二十三条" in verdict["message"]
    graduate_compulsory(world)
    instance = submit(world, "J1")
    assert on_roster(instance, junior) is None
    control = world.student("H1", grade=11, entry_year=2024)
    assert withdraw(world, control, "H1")["ok"] is True


def test_leaving_certificate_one_year(world):
    fresh = world.student("H1", grade=10, entry_year=world.year)
    verdict = withdraw(world, fresh, "H1")
    assert verdict["rule"] == "leaving_certificate_one_year"
    assert "000 第二部分 第二十四条" in verdict["message"]
    control = world.student("H1", grade=11, entry_year=2024)
    assert withdraw(world, control, "H1")["ok"] is True


def test_leaving_certificate_passing(world):
    world.orgs["V1"].plan_credits = 170
    failing = world.student("V1", grade=11, entry_year=2024)
    record(failing, "数学", "other", "fail")
    passing = world.student("V1", grade=11, entry_year=2024)
    record(passing, "数学", "other", "pass")
    verdict = withdraw(world, failing, "V1")
    assert verdict["rule"] == "leaving_certificate_passing"
    assert "002 第十六条、第三十三条" in verdict["message"] and "数学" in verdict["message"]
    assert withdraw(world, passing, "V1")["ok"] is True
    vocational(world)
    instance = submit(world, "V1")
    assert on_roster(instance, failing) is None
    assert on_roster(instance, passing).classification == "left"
    stamped(world, instance)
    assert [c.kind for c in Certificate.query.filter_by(student_id=passing.id)] == ["肄业证书"]


def test_vocational_plan_credits(world):
    student = vocational(world)
    instance = submit(world, "V1")
    assert (instance.status, instance.reason) == ("rejected", "vocational_plan_credits")
    school = world.orgs["V1"]
    assert f"{school.name}（学校代码 V1）" in instance.reason_message
    assert "002 第三十一条" in instance.reason_message
    # the control: the school's filed plan sets 150, which the student's 170 credits meet
    school.plan_credits = 150
    db.session.commit()
    instance = submit(world, "V1")
    assert on_roster(instance, student).classification == "graduated"
    school.plan_credits = 171
    db.session.commit()
    act(world, instance, "return", "请核实学分")
    instance = act(world, instance, note="按新教学计划")
    assert on_roster(instance, student).reasons == ["毕业学分 170，不足本校教学计划规定的 171 学分"]


def test_plan_credits_set_by_the_org_import(world):
    rows = (
        "code,name,level,parent_code,stage,ownership,star,plan_credits\n"
        "V1,职业学校,school,321202,vocational,public,,165\n"
        "H1,高中,school,321202,senior,public,4,165\n"
    )
    result = import_orgs(rows.encode(), "orgs.csv")
    assert [e.field for e in result.errors] == ["plan_credits"]  # only vocational schools
    result = import_orgs("".join(rows.splitlines(True)[:2]).encode(), "orgs.csv")
    assert not result.errors
    assert db.session.get(Organization, world.orgs["V1"].id).plan_credits == 165
    # a later file without the column leaves the school's number alone
    later = "code,name,level,parent_code,stage,ownership\nV1,职业学校二,school,321202,vocational,public\n"
    result = import_orgs(later.encode(), "orgs.csv")
    assert not result.errors and result.updated == 1
    assert db.session.get(Organization, world.orgs["V1"].id).plan_credits == 165


def test_graduation_certificates(world):
    """The kinds by stage: 000 第二十三条 (a junior non-graduate: 义务教育证书) and 000 第二部分
    第二十三条 (a senior non-graduate: 修业证书), the graduates' beside them."""
    junior_ok, junior_short = graduate_compulsory(world), graduate_compulsory(world, 数学="core")
    review(world, submit(world, "J1"), "321202")
    senior_ok, senior_short = senior(world), senior(world, required=100)
    stamped(world, submit(world, "H1"))
    kinds = {c.student_id: c.kind for c in Certificate.query}
    assert kinds == {
        junior_ok.id: "初中毕业证书",
        junior_short.id: "义务教育证书",
        senior_ok.id: "高中毕业证书",
        senior_short.id: "修业证书",
    }


def test_vocational_plan_credits_shown_to_the_school(world, login):
    school = login(world.users["V1"].username)
    page = school.get("/cohorts/graduation/new").get_data(as_text=True)
    assert "尚未设定" in page and "plan_credits" in page
    world.orgs["V1"].plan_credits = 168
    db.session.commit()
    page = school.get("/cohorts/graduation/new").get_data(as_text=True)
    assert '<span class="fixed">168</span> 学分' in page
    other = login(world.users["H1"].username).get("/cohorts/graduation/new")
    assert 'id="plan-credits"' not in other.get_data(as_text=True)  # not a vocational school
