"""Transfer (转学) through the real engine: paths, rules, returns, and the record moving once."""

import pytest

from webapp.models import Notification, StatusHistory
from workflows import engine
from workflows.errors import Invalid

from .flows import act, approve_all, open_steps, refused_correction, transfer_data


def start(world, student, to_school, **overrides):
    return engine.start(
        "transfer", world.users[to_school], transfer_data(student, to_school, **overrides)
    )


def test_full_approval_across_two_counties_of_one_city(world):
    student = world.student("P1", grade=4)
    instance = start(world, student, "P3")
    path = approve_all(world, instance)
    assert path == [
        ("to_county_review", "321203"),
        ("from_school_review", "P1"),
        ("from_county_review", "321202"),
    ]
    assert instance.status == "completed"
    assert student.school.code == "P3"
    assert student.grade == 4
    rows = StatusHistory.query.filter_by(student_id=student.id).all()
    assert len(rows) == 1
    assert rows[0].before["school_code"] == "P1" and rows[0].after["school_code"] == "P3"
    notified = {n.org_id for n in Notification.query.filter_by(instance_id=instance.id)}
    assert notified == {world.orgs["P1"].id, world.orgs["P3"].id}


def test_senior_cross_county_goes_to_the_city(world):
    student = world.student("H1", grade=11)
    instance = start(world, student, "H2")
    path = approve_all(world, instance)
    assert path[-1] == ("city_review", "3212")
    assert instance.status == "completed" and student.school.code == "H2"


def test_primary_cross_city_goes_to_the_city(world):
    student = world.student("P1", grade=3)
    path = approve_all(world, start(world, student, "P4"))
    assert [step for step, _ in path] == [
        "to_county_review",
        "from_school_review",
        "from_county_review",
        "city_review",
    ]


def test_same_county_reviews_once(world):
    student = world.student("P1", grade=2)
    path = approve_all(world, start(world, student, "P2"))
    assert path == [("to_county_review", "321202"), ("from_school_review", "P1")]
    assert student.school.code == "P2"


@pytest.mark.parametrize("steps_before", [0, 1, 2, 3])
def test_reject_at_every_review_step(world, steps_before):
    student = world.student("H1", grade=10)
    instance = start(world, student, "H2")
    for _ in range(steps_before):
        instance = act(world, instance)
    step = open_steps(instance)[0][0]
    instance = act(world, instance, "reject", "材料不全")
    assert instance.status == "rejected", step
    assert instance.reason == "reviewer_rejected" and instance.reason_message == "材料不全"
    assert student.school.code == "H1"
    assert StatusHistory.query.count() == 0
    assert instance.open_student_id is None


def test_return_and_resubmit(world):
    student = world.student("P1", grade=4)
    instance = start(world, student, "P3")
    instance = act(world, instance)  # receiving county approves
    instance = act(world, instance, "return", "请补充户籍迁移证明")
    assert open_steps(instance) == [("correct_application", "P3")]
    instance = act(world, instance, to_grade=4, reason="household_move", note="已补充")
    assert open_steps(instance) == [("to_county_review", "321203")]
    approve_all(world, instance)
    assert instance.status == "completed" and student.school.code == "P3"


def test_resubmission_is_checked_again(world):
    student = world.student("P1", grade=4)
    instance = start(world, student, "P3")
    instance = act(world, instance, "return", "年级填写错误")
    assert refused_correction(world, instance, to_grade=5, reason="other") == ["grade_unchanged"]
    instance = act(world, instance, to_grade=4, reason="other")  # the control
    assert instance.status == "running" and instance.reason is None


def _rejected_by(world, student, to_school, **overrides):
    instance = start(world, student, to_school, **overrides)
    assert instance.status == "rejected"
    assert engine.open_tasks(instance) == []
    assert instance.reason_message  # the rule's Chinese message
    return instance.reason


def test_rule_grade_unchanged(world):
    assert _rejected_by(world, world.student("P1", grade=4), "P3", to_grade=5) == "grade_unchanged"


def test_rule_graduating_year(world):
    assert _rejected_by(world, world.student("P1", grade=6), "P3") == "graduating_year"
    assert _rejected_by(world, world.student("J1", grade=9), "J2") == "graduating_year"


def test_rule_within_county_for_junior_and_senior(world):
    assert _rejected_by(world, world.student("H3", grade=10), "H2") == "within_county"


def test_rule_private_to_public(world):
    # compulsory: only into the county of the household register
    away = world.student("M1", grade=3, household_code="321002")
    assert _rejected_by(world, away, "P3") == "private_to_public"
    home = world.student("M1", grade=3, household_code="321203")
    assert start(world, home, "P3").status == "running"
    # the national template's 12-digit code: its county part is its first 6 digits
    away = world.student("M1", grade=3, household_code="321002001001")
    assert _rejected_by(world, away, "P3") == "private_to_public"
    home = world.student("M1", grade=3, household_code="321203100201")
    assert start(world, home, "P3").status == "running"
    # senior: never
    assert _rejected_by(world, world.student("M2", grade=10), "H2") == "private_to_public"


def test_rule_senior_vocational(world):
    assert _rejected_by(world, world.student("H1", grade=10), "V1") == "senior_vocational"


def test_rule_star(world):
    assert _rejected_by(world, world.student("H1", grade=10), "H3") == "star_rule"


def test_rule_class_size_cap(world):
    for _ in range(45):
        world.student("P3", grade=4, class_name="2")
    student = world.student("P1", grade=4)
    assert _rejected_by(world, student, "P3", to_class_name="2") == "class_size_cap"
    other = world.student("P1", grade=4)
    assert start(world, other, "P3", to_class_name="3").status == "running"


def test_rule_active_status(world):
    student = world.student("P1", grade=4, status="withdrawn")
    student.status = "enrolled"  # found at start, then withdrawn before the checks run
    from webapp.extensions import db

    db.session.flush()
    instance = start(world, student, "P3")
    instance = act(world, instance, "return", "请核对")
    student.status = "withdrawn"
    db.session.commit()
    assert refused_correction(world, instance, to_grade=4, reason="other") == ["active_status"]


def test_rule_same_school(world):
    assert _rejected_by(world, world.student("P3", grade=4), "P3") == "same_school"


def test_rule_stage_offered(world):
    assert _rejected_by(world, world.student("J1", grade=8), "P3") == "stage_offered"


def test_second_open_procedure_is_refused(world):
    """Another school's second start is told no more than a wrong ID number would be."""
    student = world.student("P1", grade=4)
    start(world, student, "P3")
    with pytest.raises(Invalid, match="无法按此身份证号和姓名发起") as refused:
        start(world, student, "P4")
    with pytest.raises(Invalid) as wrong_pair:
        start(world, student, "P4", name="别人")
    assert (refused.value.message, refused.value.fields) == (
        wrong_pair.value.message,
        wrong_pair.value.fields,
    )


def test_rule_no_open_procedure(world):
    """The start guard answers 409 first; the shared rule is the backstop inside the checks."""
    from types import SimpleNamespace

    from handlers.school_rules import NO_OPEN_PROCEDURE
    from workflows.errors import Conflict

    student = world.student("P1", grade=4)
    first = start(world, student, "P3")
    with pytest.raises(Conflict, match="正在办理"):
        start(world, student, "P3")
    assert not NO_OPEN_PROCEDURE.check(SimpleNamespace(student=student, instance_id=first.id + 1))
    assert NO_OPEN_PROCEDURE.check(SimpleNamespace(student=student, instance_id=first.id))


def test_move_is_idempotent(world):
    import handlers
    from workflows.services import EngineContext as Context

    student = world.student("P1", grade=4)
    instance = start(world, student, "P3")
    approve_all(world, instance)
    again = handlers.HANDLERS["transfer.move"](Context(instance, None, instance.data))
    assert again["moved"] is True
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 1
