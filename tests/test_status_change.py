"""Withdrawal (退学) and cancellation (注销): paths, four-eyes, evidence and every rule."""

from datetime import date

import pytest

from handlers.cancellation import CANCELLATION_RULES
from handlers.leaving import StudentFacts
from webapp.models import Certificate, StatusHistory
from workflows import engine
from workflows.errors import Conflict, Forbidden, Invalid, NotFound

from .flows import act, at, evidence, open_steps, review

DAY = date(2026, 12, 1)  # the day the withdrawal rules are asked on


def upload(user) -> int:
    (file_id,) = evidence(user)
    return file_id


def start(world, procedure, student, school, reason, **extra):
    user = world.users[school]
    data = {"reason": reason, "evidence": [upload(user)], **extra}
    return engine.start(procedure, user, data, student_id=student.id)


def test_senior_withdrawal_full_path_with_certificate(world):
    student = world.student("H1", grade=11, entry_year=2024)
    instance = start(world, "withdrawal", student, "H1", "personal")
    assert open_steps(instance) == [("school_review", "H1")]
    world.user("uH1b", "H1", "school")
    instance = review(world, instance, "uH1b")
    assert open_steps(instance) == [("county_review", "321202")]
    instance = review(world, instance, "321202")
    assert instance.status == "completed"
    assert student.status == "withdrawn"
    (row,) = StatusHistory.query.filter_by(student_id=student.id).all()
    assert (row.before, row.after, row.procedure) == (
        {"status": "enrolled"},
        {"status": "withdrawn"},
        "withdrawal",
    )
    # Changed for issue 14 item 4: the 肄业 certificate is numbered and stamped at the 验印
    # like the others (000 第二部分 第二十五条), not issued here (tests/test_certificates.py).
    assert instance.data["result"]["leaving_certificate"]["ok"] is True
    assert Certificate.query.filter_by(student_id=student.id).count() == 0


def test_no_certificate_before_one_year(world):
    student = world.student("H1", grade=10, entry_year=date.today().year)
    instance = start(world, "withdrawal", student, "H1", "personal")
    review(
        world,
        instance,
        "uH1b" if "uH1b" in world.users else world.user("uH1b", "H1", "school").username,
    )
    review(world, instance, "321202")
    assert student.status == "withdrawn"
    assert Certificate.query.filter_by(student_id=student.id).count() == 0


def test_four_eyes_the_entering_user_cannot_review(world):
    student = world.student("P1", grade=5)
    instance = start(world, "withdrawal", student, "P1", "lost_ability")
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Forbidden, match="四眼原则"):
        engine.complete(task.id, world.users["P1"], {"decision": "approve"})
    instance = engine.complete(task.id, world.users["uP1b"], {"decision": "approve"})
    assert open_steps(instance) == [("county_review", "321202")]


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_withdrawal_reject_at_every_review(world, step):
    student = world.student("P1", grade=5)
    instance = start(world, "withdrawal", student, "P1", "lost_ability")
    if step == "county_review":
        instance = review(world, instance, "uP1b")
    reviewer = "uP1b" if step == "school_review" else "321202"
    instance = review(world, instance, reviewer, "reject", "证明材料不足")
    assert instance.status == "rejected" and instance.reason_message == "证明材料不足"
    assert student.status == "enrolled"


def test_withdrawal_return_and_resubmit(world):
    student = world.student("P1", grade=5)
    instance = start(world, "withdrawal", student, "P1", "lost_ability")
    instance = review(world, instance, "uP1b")
    instance = review(world, instance, "321202", "return", "请补充医院证明")
    assert open_steps(instance) == [("correct_application", "P1")]
    instance = act(world, instance, reason="lost_ability", evidence=[upload(world.users["P1"])])
    assert open_steps(instance) == [("school_review", "P1")]
    review(world, instance, "uP1b")
    review(world, instance, "321202")
    assert student.status == "withdrawn"


@pytest.mark.parametrize(
    ("grade", "birth", "reason", "allowed", "entry_year"),
    [
        (5, date(2015, 1, 1), "personal", False, None),
        (8, date(2011, 1, 1), "nine_years_completed", False, None),  # nine years not done
        (9, date(2013, 1, 1), "nine_years_completed", False, 2017),  # under 16
        # Nine years studied (entered 2017), not grade 9: the old `grade >= 9` is issue 14.5.
        (9, date(2009, 1, 1), "nine_years_completed", True, 2017),
        (4, date(2016, 1, 1), "lost_ability", True, None),
    ],
)
def test_rule_compulsory_withdrawal(world, grade, birth, reason, allowed, entry_year):
    school = "P1" if grade <= 6 else "J1"
    extra = {"entry_year": entry_year} if entry_year else {}
    student = world.student(school, grade=grade, birth_date=birth, **extra)
    with at(DAY):
        instance = start(world, "withdrawal", student, school, reason)
    if allowed:
        assert instance.status == "running"
    else:
        assert (instance.status, instance.reason) == ("rejected", "compulsory_withdrawal")


def test_rule_active_status_on_withdrawal_and_cancellation(world):
    student = world.student("H1", grade=11, status="cancelled")
    for procedure, reason in (("withdrawal", "personal"), ("cancellation", "death")):
        instance = start(world, procedure, student, "H1", reason)
        assert (instance.status, instance.reason) == ("rejected", "active_status")


def test_rule_no_open_procedure_on_cancellation(world):
    """The start guard answers 409 first; the rule is the backstop inside the checks."""
    student = world.student("P1", grade=3)
    first = start(world, "withdrawal", student, "P1", "lost_ability")
    with pytest.raises(Conflict, match="正在办理"):
        start(world, "cancellation", student, "P1", "death")
    facts = StudentFacts(first.id + 1, student, "death", date.today())
    assert CANCELLATION_RULES.first_failure(facts).rule == "no_open_procedure"
    assert CANCELLATION_RULES.first_failure(
        StudentFacts(first.id, student, "death", date.today())
    ).ok


def test_cancellation_full_path_and_never_reactivated(world):
    student = world.student("P1", grade=3)
    instance = start(world, "cancellation", student, "P1", "death")
    assert open_steps(instance) == [("county_review", "321202")]
    instance = review(world, instance, "321202")
    assert instance.status == "completed" and student.status == "cancelled"
    again = start(world, "withdrawal", student, "P1", "lost_ability")
    assert again.reason == "active_status"


def test_cancellation_reject_and_return(world):
    student = world.student("P1", grade=3)
    instance = start(world, "cancellation", student, "P1", "abroad_not_returning")
    instance = review(world, instance, "321202", "return", "缺少出境证明")
    instance = act(
        world, instance, reason="abroad_not_returning", evidence=[upload(world.users["P1"])]
    )
    instance = review(world, instance, "321202", "reject", "未满足注销条件")
    assert instance.status == "rejected" and student.status == "enrolled"


def test_evidence_is_required_and_must_be_our_own(world):
    student = world.student("P1", grade=3)
    with pytest.raises(Invalid) as exc:
        engine.start("cancellation", world.users["P1"], {"reason": "death"}, student_id=student.id)
    assert "evidence" in exc.value.fields
    other = upload(world.users["P3"])
    with pytest.raises(Invalid) as exc:
        engine.start(
            "cancellation",
            world.users["P1"],
            {"reason": "death", "evidence": [other]},
            student_id=student.id,
        )
    assert str(other) in exc.value.fields["evidence"][0]


def test_only_the_students_own_school_may_start(world):
    student = world.student("P1", grade=3)
    with pytest.raises(NotFound):
        start(world, "cancellation", student, "P3", "death")
    start(world, "cancellation", student, "P1", "death")
    with pytest.raises(Conflict):
        start(world, "withdrawal", student, "P1", "lost_ability")
