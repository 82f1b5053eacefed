"""Key-field change (学籍信息变更): paths, four-eyes, form shapes and every rule."""

from datetime import date

import pytest
from stdnum.cn import ric

from forms.validators import build_id_number
from handlers.info_change import INFO_CHANGE_RULES, InfoChangeFacts
from webapp.extensions import db
from webapp.models import HumanTask, StatusHistory
from workflows import engine
from workflows.errors import Conflict, Forbidden, Invalid

from .flows import act, evidence, four_eyes_through_the_api, open_steps, refused_correction, review

BIRTH = date(2016, 5, 5)


def new_id(birth: date = BIRTH, gender: str = "M", seq: int = 377) -> str:
    """A valid ID number no world student holds (they carry their county's area code)."""
    return build_id_number("321281", birth, seq, gender)


def pupil(world, school="P1", **kw):
    kw.setdefault("birth_date", BIRTH)
    kw.setdefault("gender", "M")
    return world.student(school, grade=3, **kw)


def start(world, student, field, new_value, **extra):
    user = world.users[student.school.code]
    data = {
        "field": field,
        "new_value": new_value,
        "evidence": evidence(user, "户口簿.pdf"),
        **extra,
    }
    return engine.start("info_change", user, data, student_id=student.id)


def approve_to_end(world, instance):
    instance = review(world, instance, "uP1b")
    return review(world, instance, "321202")


def history(student) -> StatusHistory:
    (row,) = StatusHistory.query.filter_by(student_id=student.id).all()
    return row


# -- paths ----------------------------------------------------------------------------------


def test_id_number_change_full_path_renews_the_national_status_number(world):
    student = pupil(world)
    old = student.id_number
    number = new_id()
    instance = start(world, student, "id_number", number.lower())
    assert instance.data["new_value"] == number  # stored compact, X upper-case
    assert open_steps(instance) == [("school_review", "P1")]
    instance = review(world, instance, "uP1b")
    assert open_steps(instance) == [("county_review", "321202")]
    assert student.id_number == old
    instance = review(world, instance, "321202")
    assert instance.status == "completed"
    assert (student.id_number, student.status_number) == (number, "G" + number)
    row = history(student)
    assert (row.procedure, row.instance_id) == ("info_change", instance.id)
    assert row.before == {"id_number": old, "status_number": "G" + old}
    assert row.after == {"id_number": number, "status_number": "G" + number}


def test_name_change(world):
    student = pupil(world, name="王晓明")
    instance = approve_to_end(world, start(world, student, "name", "  王小明 "))
    assert instance.status == "completed" and student.name == "王小明"
    assert (history(student).before, history(student).after) == (
        {"name": "王晓明"},
        {"name": "王小明"},
    )


def test_gender_change_corrects_a_wrongly_entered_gender(world):
    student = pupil(world, gender="M")
    student.gender = "F"  # entered wrongly; the ID number says male
    db.session.commit()
    instance = approve_to_end(world, start(world, student, "gender", "男"))
    assert instance.status == "completed" and student.gender == "M"
    assert history(student).after == {"gender": "M"}


def test_birth_date_change_corrects_a_wrongly_entered_date(world):
    student = pupil(world)
    student.birth_date = date(2016, 5, 6)  # entered wrongly; the ID number says 5 May
    db.session.commit()
    instance = approve_to_end(world, start(world, student, "birth_date", "2016-05-05"))
    assert instance.status == "completed" and student.birth_date == BIRTH
    assert history(student).before == {"birth_date": "2016-05-06"}
    assert history(student).after == {"birth_date": "2016-05-05"}


def test_id_number_change_may_correct_birth_date_and_gender_alongside(world):
    """Both the ID number and the birth date wrong: neither change alone could ever agree."""
    student = pupil(world, gender="M")
    right_birth = date(2016, 6, 15)
    number = new_id(right_birth, "F")
    refused = start(world, student, "id_number", number)
    assert (refused.status, refused.reason) == ("rejected", "id_matches_identity")
    assert "2016-06-15" in refused.reason_message and "性别" in refused.reason_message
    instance = start(
        world, student, "id_number", number, birth_date=right_birth.isoformat(), gender="F"
    )
    instance = approve_to_end(world, instance)
    assert instance.status == "completed"
    assert (student.id_number, student.birth_date, student.gender) == (number, right_birth, "F")
    assert history(student).after == {
        "id_number": number,
        "birth_date": "2016-06-15",
        "gender": "F",
        "status_number": "G" + number,
    }


def test_a_regional_status_number_is_kept(world):
    student = pupil(world)
    student.status_number = "3212021100120230001"  # Jiangsu 19-digit compulsory number
    db.session.commit()
    approve_to_end(world, start(world, student, "id_number", new_id()))
    assert student.status_number == "3212021100120230001"
    assert "status_number" not in history(student).after


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_reject_at_every_review(world, step):
    student = pupil(world)
    old = student.id_number
    instance = start(world, student, "id_number", new_id())
    reviewer = "uP1b"
    if step == "county_review":
        instance = review(world, instance, reviewer)
        reviewer = "321202"
    instance = review(world, instance, reviewer, "reject", "户口簿页不清晰")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert student.id_number == old
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 0


@pytest.mark.parametrize("step", ["school_review", "county_review"])
def test_return_and_resubmit_leaves_no_stale_values(world, step):
    student = pupil(world)
    first = new_id(date(2016, 6, 15), "F")
    instance = start(world, student, "id_number", first, birth_date="2016-06-15", gender="F")
    reviewer = "uP1b"
    if step == "county_review":
        instance = review(world, instance, reviewer)
        reviewer = "321202"
    instance = review(world, instance, reviewer, "return", "身份证号与户口簿不符")
    assert open_steps(instance) == [("correct_application", "P1")]
    number = new_id()
    (task,) = engine.open_tasks(instance)
    instance = engine.complete(
        task.id,
        world.users["P1"],
        {"field": "id_number", "new_value": number, "evidence": evidence(world.users["P1"])},
    )
    assert open_steps(instance) == [("school_review", "P1")]
    instance = approve_to_end(world, instance)
    assert instance.status == "completed"
    # the first submission's birth date and gender do not survive the correction
    assert (student.id_number, student.birth_date, student.gender) == (number, BIRTH, "M")


def test_a_resubmission_that_breaks_a_rule_is_refused_on_the_form(world):
    student = pupil(world, name="李雷")
    instance = start(world, student, "name", "李蕾")
    instance = review(world, instance, "uP1b", "return", "请核对户口簿")
    school = world.users["P1"]
    unchanged = {"field": "name", "new_value": "李雷", "evidence": evidence(school)}
    assert refused_correction(world, instance, **unchanged) == ["value_changed"]
    instance = act(world, instance, **{**unchanged, "new_value": "李磊"})  # the control
    assert open_steps(instance) == [("school_review", "P1")]


# -- four-eyes ------------------------------------------------------------------------------


def test_four_eyes_the_entering_user_cannot_review(world):
    student = pupil(world)
    instance = start(world, student, "name", "张新")
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Forbidden, match="四眼原则"):
        engine.complete(task.id, world.users["P1"], {"decision": "approve"})
    instance = engine.complete(task.id, world.users["uP1b"], {"decision": "approve"})
    assert open_steps(instance) == [("county_review", "321202")]


def test_four_eyes_through_the_api_is_403(api, world):
    data = {"field": "name", "new_value": "张新"}
    resp = four_eyes_through_the_api(api, pupil(world), "info_change", data, "户口簿.pdf")
    assert resp.status_code == 200


# -- form shapes (422, naming the field) ----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "1–64"),
        ("name", "   ", "1–64"),
        ("name", "名" * 65, "1–64"),
        ("gender", "X", "M（男）或 F（女）"),
        ("birth_date", "2015/03/10", "YYYY-MM-DD"),
        ("birth_date", "2015-02-30", "YYYY-MM-DD"),
        ("birth_date", "2999-01-01", "晚于今天"),
        ("id_number", "32120220160505001", "18 位"),
        ("id_number", "32120220160505001Y", "18 位"),
    ],
)
def test_value_shape_is_a_field_error(world, field, value, message):
    student = pupil(world)
    with pytest.raises(Invalid) as exc:
        engine.start(
            "info_change",
            world.users["P1"],
            {"field": field, "new_value": value, "evidence": evidence(world.users["P1"])},
            student_id=student.id,
        )
    assert list(exc.value.fields) == ["new_value"]
    assert message in exc.value.fields["new_value"][0]


def test_unknown_field_and_misplaced_corrections_are_field_errors(world):
    student = pupil(world)
    with pytest.raises(Invalid) as exc:
        start(world, student, "household_code", "321203")
    assert "field" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        start(world, student, "name", "张新", birth_date="2016-01-01", gender="F")
    assert set(exc.value.fields) == {"birth_date", "gender"}


def test_the_api_answers_422_with_the_field(api, world):
    student = pupil(world)
    resp = api("uP1").post(
        "/api/v1/instances",
        json={
            "procedure": "info_change",
            "student_id": student.id,
            "data": {"field": "gender", "new_value": "未知"},
        },
    )
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert set(fields) == {"new_value", "evidence"}


# -- every rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "gender", "birth_date", "id_number"])
def test_rule_value_changed(world, field):
    student = pupil(world)
    current = {
        "name": student.name,
        "gender": student.gender,
        "birth_date": student.birth_date.isoformat(),
        "id_number": student.id_number,
    }[field]
    instance = start(world, student, field, current)
    assert (instance.status, instance.reason) == ("rejected", "value_changed")
    assert HumanTask.query.filter_by(instance_id=instance.id).count() == 0


def test_rule_id_number_valid_checksum(world):
    student = pupil(world)
    good = new_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    instance = start(world, student, "id_number", bad)
    assert (instance.status, instance.reason) == ("rejected", "id_number_valid")
    assert "校验位" in instance.reason_message


def test_rule_id_number_valid_birth_date_component(world):
    body = "32120220161332001"  # month 13
    number = body + ric.calc_check_digit(body + "0")
    instance = start(world, pupil(world), "id_number", number)
    assert (instance.status, instance.reason) == ("rejected", "id_number_valid")
    assert "出生日期" in instance.reason_message


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("id_number", new_id(date(2016, 5, 6)), "2016-05-06"),
        ("id_number", new_id(gender="F"), "性别"),
        ("birth_date", "2016-05-06", "2016-05-05"),
        ("gender", "F", "性别为男"),
    ],
)
def test_rule_id_matches_identity(world, field, value, words):
    student = pupil(world)
    instance = start(world, student, field, value)
    assert (instance.status, instance.reason) == ("rejected", "id_matches_identity")
    assert words in instance.reason_message


@pytest.mark.parametrize(
    ("holder_status", "allowed"), [("enrolled", False), ("suspended", False), ("withdrawn", True)]
)
def test_rule_id_unique(world, holder_status, allowed):
    student = pupil(world)
    holder = world.student(
        "P3", grade=3, birth_date=BIRTH, gender="M", name="外校学生", status=holder_status
    )
    instance = start(world, student, "id_number", holder.id_number)
    if allowed:
        assert instance.status == "running"
    else:
        assert (instance.status, instance.reason) == ("rejected", "id_unique")
        assert "外校学生" not in instance.reason_message  # the holder is outside our reach


def test_rule_active_status(world):
    student = pupil(world, status="cancelled")
    instance = start(world, student, "name", "张新")
    assert (instance.status, instance.reason) == ("rejected", "active_status")


def test_rule_no_open_procedure(world):
    """The start guard answers 409 first; the rule is the backstop inside the checks."""
    student = pupil(world)
    first = start(world, student, "name", "张新")
    with pytest.raises(Conflict):
        start(world, student, "name", "张三")
    also = {"birth_date": None, "gender": None}
    facts = InfoChangeFacts(first.id + 1, student, "name", "张新", also)
    assert INFO_CHANGE_RULES.first_failure(facts).rule == "no_open_procedure"
    assert INFO_CHANGE_RULES.first_failure(
        InfoChangeFacts(first.id, student, "name", "张新", also)
    ).ok


def test_an_id_number_taken_during_review_is_caught_before_the_record_changes(world):
    student = pupil(world)
    old = student.id_number
    number = new_id()
    instance = start(world, student, "id_number", number)
    instance = review(world, instance, "uP1b")
    holder = world.student("P3", grade=3, birth_date=BIRTH, gender="M")
    holder.id_number = number  # registered elsewhere meanwhile
    db.session.commit()
    instance = review(world, instance, "321202")
    # the number is what the school typed: the county may return it for correction
    assert open_steps(instance) == [("recheck_failed", "321202")]
    assert instance.data["check"]["rule"] == "id_unique"
    assert student.id_number == old
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 0
