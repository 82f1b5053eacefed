"""Repeat a grade (留级): the worked example of a new procedure (docs: issue 13).

By default a student repeats one grade inside one stage and one school, on the guardian's
written request, after the school (another user) and the county approve, status number
unchanged (003 篇10 四); Shandong (000 ⑦) and Fujian vocational (002 第二十四条) refuse it
by their one-row table before anyone is asked."""

import io

import pytest

from handlers.repeat_grade import finalize_repeat_grade
from handlers.school_rules import CLASS_CAPS
from webapp.extensions import db
from webapp.models import HumanTask, Instance, StatusHistory
from workflows import engine
from workflows.errors import Forbidden, Invalid, NotFound
from workflows.services import EngineContext as Context

from .flows import evidence, four_eyes_through_the_api, open_steps, review, second_user


def start(world, student, to_grade=None, to_class_name="2", user=None):
    user = user or world.users[student.school.code]
    data = {
        "to_grade": student.grade - 1 if to_grade is None else to_grade,
        "to_class_name": to_class_name,
        "evidence": evidence(user, "监护人留级申请.pdf"),
    }
    return engine.start("repeat_grade", user, data, student_id=student.id)


def approve_to_end(world, instance):
    instance = review(world, instance, second_user(world, instance.school.code))
    return review(world, instance, instance.school.ancestor("county").code)


def assign(world, code: str, variant: str) -> None:
    world.orgs[code].variant = variant
    db.session.commit()


# -- the default path -----------------------------------------------------------------------


def test_school_then_county_approve_and_the_student_is_one_grade_down_in_the_same_school(world):
    student = world.student("P1", grade=4, class_name="1")
    number, school_id = student.status_number, student.school_id
    instance = start(world, student, to_class_name="3")
    assert (instance.status, instance.variant) == ("running", "default")
    assert instance.data["allow_repeat_grade"] is True  # the default table's switch
    assert open_steps(instance) == [("school_review", "P1")]
    instance = review(world, instance, "uP1b")
    assert open_steps(instance) == [("county_review", "321202")]  # approval, not only filing
    assert student.grade == 4  # nothing changes before the final step
    instance = review(world, instance, "321202")
    assert instance.status == "completed" and instance.open_student_id is None
    assert (student.grade, student.class_name) == (3, "3")
    assert (student.school_id, student.status_number) == (school_id, number)
    (row,) = StatusHistory.query.filter_by(student_id=student.id).all()
    assert (row.procedure, row.instance_id) == ("repeat_grade", instance.id)
    assert (row.before, row.after) == (
        {"grade": 4, "class_name": "1"},
        {"grade": 3, "class_name": "3"},
    )


def test_the_final_step_changes_the_record_once(world):
    student = world.student("J1", grade=8)
    instance = approve_to_end(world, start(world, student))
    again = finalize_repeat_grade(Context(instance, world.users["321202"], instance.data))
    db.session.commit()
    assert again["history_id"] is None and student.grade == 7
    assert StatusHistory.query.filter_by(student_id=student.id).count() == 1


def test_the_county_may_refuse(world):
    student = world.student("H1", grade=11)
    instance = review(world, start(world, student), second_user(world, "H1"))
    instance = review(world, instance, "321202", "reject", "未说明留级理由")
    assert (instance.status, instance.reason) == ("rejected", "reviewer_rejected")
    assert student.grade == 11


# -- inside one stage -----------------------------------------------------------------------


@pytest.mark.parametrize(("school", "grade"), [("J1", 7), ("H1", 10), ("V1", 10)])
def test_the_first_grade_of_a_stage_is_refused_by_the_rule_same_stage(world, school, grade):
    student = world.student(school, grade=grade)
    instance = start(world, student)
    assert (instance.status, instance.reason) == ("rejected", "same_stage")
    assert f"{grade} 年级是本学段的第一个年级" in instance.reason_message
    assert HumanTask.query.filter_by(instance_id=instance.id).count() == 0
    assert student.grade == grade


@pytest.mark.parametrize(("school", "grade"), [("P1", 2), ("J1", 8), ("H1", 12), ("V1", 11)])
def test_control_a_later_grade_of_each_stage_is_accepted(world, school, grade):
    instance = start(world, world.student(school, grade=grade))
    assert instance.status == "running"


# -- the form -------------------------------------------------------------------------------


@pytest.mark.parametrize("to_grade", [5, 2, 4])
def test_a_grade_not_one_below_is_a_field_error(world, to_grade):
    student = world.student("P1", grade=4)
    with pytest.raises(Invalid) as exc:
        start(world, student, to_grade=to_grade)
    assert set(exc.value.fields) == {"to_grade"}
    assert "应填 3" in exc.value.fields["to_grade"][0]


def test_a_grade_not_one_below_is_422_through_the_api(api, world):
    student = world.student("P1", grade=4)
    data = {"to_grade": 2, "to_class_name": "1", "evidence": evidence(world.users["P1"])}
    body = {"procedure": "repeat_grade", "student_id": student.id, "data": data}
    resp = api("uP1").post("/api/v1/instances", json=body)
    assert resp.status_code == 422
    assert "应填 3" in resp.get_json()["error"]["fields"]["to_grade"][0]


def test_a_first_grader_has_no_grade_below(world):
    student = world.student("P1", grade=1)
    with pytest.raises(Invalid) as exc:
        start(world, student, to_grade=1)
    assert "没有更低的年级" in exc.value.fields["to_grade"][0]


def test_form_errors_name_the_field(world):
    student = world.student("P1", grade=3)
    with pytest.raises(Invalid) as exc:
        engine.start(
            "repeat_grade",
            world.users["P1"],
            {"to_grade": "二", "to_class_name": " "},
            student_id=student.id,
        )
    assert set(exc.value.fields) == {"to_grade", "to_class_name", "evidence"}


# -- regions that forbid it: one-row tables --------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "county", "school", "grade", "document"),
    [
        ("shandong", "321202", "P1", 4, "000 ⑦ 第二十五条"),
        ("fujian_vocational", "321203", "V1", 11, "002 第二十四条"),
    ],
)
def test_a_region_that_forbids_repeating_refuses_before_anyone_is_asked(
    world, variant, county, school, grade, document
):
    control = start(world, world.student(school, grade=grade))
    assert (control.variant, control.status) == ("default", "running")
    assign(world, county, variant)
    student = world.student(school, grade=grade)
    instance = start(world, student)
    assert (instance.variant, instance.status, instance.reason) == (
        variant,
        "rejected",
        "repeat_grade_allowed",
    )
    assert "不办理留级" in instance.reason_message and document in instance.reason_message
    assert instance.data["allow_repeat_grade"] is False
    assert HumanTask.query.filter_by(instance_id=instance.id).count() == 0
    assert student.grade == grade


# -- four-eyes and reach --------------------------------------------------------------------


def test_four_eyes_the_entering_user_cannot_review_and_another_can(world):
    student = world.student("P1", grade=3)
    instance = start(world, student)
    (task,) = engine.open_tasks(instance)
    with pytest.raises(Forbidden, match="四眼原则"):
        engine.complete(task.id, world.users["P1"], {"decision": "approve"})
    instance = engine.complete(task.id, world.users["uP1b"], {"decision": "approve"})
    assert open_steps(instance) == [("county_review", "321202")]


def test_four_eyes_through_the_api_is_403_then_the_second_registrar_passes(api, world):
    student = world.student("P1", grade=3)
    data = {"to_grade": 2, "to_class_name": "1"}
    resp = four_eyes_through_the_api(api, student, "repeat_grade", data, "监护人留级申请.pdf")
    assert resp.status_code == 200, resp.get_json()
    assert [t["org_code"] for t in resp.get_json()["current_tasks"]] == ["321202"]


def test_another_countys_users_get_404(api, world):
    student = world.student("P1", grade=3)
    with pytest.raises(NotFound):  # a school of 高港区 cannot start it for 海陵区's pupil
        start(world, student, user=world.users["P3"])
    instance = review(world, start(world, student), "uP1b")
    assert api("u321202").get(f"/api/v1/instances/{instance.id}").status_code == 200  # control
    for outsider in ("u321203", "uP3"):
        assert api(outsider).get(f"/api/v1/instances/{instance.id}").status_code == 404
    (task,) = engine.open_tasks(instance)
    resp = api("u321203").post(
        f"/api/v1/tasks/{task.id}/complete", json={"data": {"decision": "approve"}}
    )
    assert resp.status_code == 404
    assert student.grade == 3


# -- the class -------------------------------------------------------------------------------


def test_rule_class_size_cap(world, monkeypatch):
    monkeypatch.setitem(CLASS_CAPS, "primary", 2)
    for _ in range(2):
        world.student("P1", grade=3, class_name="2")
    instance = start(world, world.student("P1", grade=4), to_class_name="2")
    assert (instance.status, instance.reason) == ("rejected", "class_size_cap")
    assert start(world, world.student("P1", grade=4), to_class_name="3").status == "running"


def test_procedure_is_offered_to_schools(api, world):
    keys = {i["key"]: i for i in api("uP1").get("/api/v1/procedures").get_json()["items"]}
    assert keys["repeat_grade"] == {"key": "repeat_grade", "name": "留级", "version": 1}


# -- in the browser: the generic start form from the record page ----------------------------

PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def test_from_the_record_page_a_wrong_grade_is_shown_then_the_right_one_goes_through(world, login):
    student = world.student("P1", grade=4, class_name="1")
    client = login("uP1")
    url = f"/students/{student.id}/start/repeat_grade"
    assert url in client.get(f"/students/{student.id}").get_data(as_text=True)
    form = client.get(url).get_data(as_text=True)
    assert "留级后的年级" in form and "监护人书面申请" in form
    wrong = {"to_grade": "2", "to_class_name": "2", "evidence": (io.BytesIO(PDF), "申请.pdf")}
    resp = client.post(url, data=wrong, content_type="multipart/form-data")
    assert resp.status_code == 422 and "应填 3" in resp.get_data(as_text=True)
    right = {"to_grade": "3", "to_class_name": "2", "evidence": (io.BytesIO(PDF), "申请.pdf")}
    resp = client.post(url, data=right, content_type="multipart/form-data", follow_redirects=True)
    assert "自动检查通过" in resp.get_data(as_text=True)
    (instance,) = Instance.query.filter_by(procedure="repeat_grade").all()
    assert open_steps(instance) == [("school_review", "P1")]
