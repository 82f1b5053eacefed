"""The notification centre: who is told of new steps, returns, rejections and completions."""

from __future__ import annotations

import re

from webapp.extensions import db
from webapp.models import Notification
from workflows import engine
from workflows.errors import Invalid
from workflows.workdays import china_day

from .flows import act, approve_all, transfer_data


def notices(world, org_code: str, kind: str | None = None) -> list[Notification]:
    query = Notification.query.filter_by(org_id=world.orgs[org_code].id)
    if kind is not None:
        query = query.filter_by(kind=kind)
    return query.order_by(Notification.id).all()


def start(world, student, to_school="P3"):
    return engine.start("transfer", world.users[to_school], transfer_data(student, to_school))


def test_each_new_step_tells_its_organisation_and_role(world):
    student = world.student("P1", grade=4, name="王小明")
    instance = start(world, student)
    (task,) = engine.open_tasks(instance)
    (notice,) = notices(world, "321203")
    assert (notice.kind, notice.role, notice.task_id) == ("task", "county", task.id)
    assert notice.instance_id is None  # step notices point at the task
    assert "新的待办任务" in notice.message and "转学申请（学生 王小明）" in notice.message
    assert "转入地县级教育行政部门审核" in notice.message
    assert notice.message.endswith(f"请于 {china_day(task.due_at)} 前办理。")
    instance = act(world, instance)
    (notice,) = notices(world, "P1", "task")
    assert notice.role == "school" and "转出学校审核" in notice.message
    assert notices(world, "P3") == []  # the applicant has no step yet


def test_a_return_tells_the_school_why_and_the_resubmission_is_a_new_task(world):
    student = world.student("P1", grade=4, name="王小明")
    instance = start(world, student)
    instance = act(world, instance, "return", "缺少房产证明，请补充。")
    (task,) = engine.open_tasks(instance)
    assert task.step == "correct_application"
    (notice,) = notices(world, "P3")
    assert (notice.kind, notice.role, notice.task_id) == ("returned", "school", task.id)
    assert "被高港区退回修改" in notice.message and "缺少房产证明，请补充。" in notice.message
    assert "转入学校修改并重新提交" in notice.message
    act(world, instance, to_grade=4, reason="household_move", note="已补充")
    kinds = [n.kind for n in notices(world, "321203")]
    assert kinds == ["task", "task"]


def test_a_reviewers_rejection_tells_the_schools_that_took_part_but_not_the_rejecter(world):
    student = world.student("P1", grade=4)
    instance = start(world, student)
    instance = act(world, instance)  # receiving county approves
    instance = act(world, instance)  # sending school approves
    instance = act(world, instance, "reject", "学位已满。")  # sending county rejects
    assert instance.status == "rejected"
    told = {
        n.org.code: n
        for n in Notification.query.filter_by(instance_id=instance.id, kind="rejected")
    }
    assert set(told) == {"P1", "P3"}
    assert "未通过" in told["P3"].message and "理由：学位已满。" in told["P3"].message
    assert told["P3"].role == "school"


def test_a_school_that_rejects_is_not_told_of_its_own_decision(world):
    student = world.student("P1", grade=4)
    instance = start(world, student)
    instance = act(world, instance)
    instance = act(world, instance, "reject", "学生家长不同意转出。")
    assert [n.org.code for n in Notification.query.filter_by(kind="rejected")] == ["P3"]


def test_an_automatic_rejection_tells_the_applicant_the_rule(world):
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3", to_grade=5))
    assert (instance.status, instance.reason) == ("rejected", "grade_unchanged")
    (notice,) = notices(world, "P3")
    assert notice.kind == "rejected" and notice.instance_id == instance.id
    assert instance.reason_message in notice.message
    assert notices(world, "P1") == []


def test_completion_is_told_to_both_schools(world):
    student = world.student("P1", grade=4)
    instance = start(world, student)
    approve_all(world, instance)
    outcome = Notification.query.filter_by(instance_id=instance.id, kind="completed").all()
    assert {n.org.code for n in outcome} == {"P1", "P3"}
    assert all("已办结" in n.message for n in outcome)


def test_the_notification_centre_counts_unread_links_the_task_and_marks_read(world, login):
    student = world.student("P1", grade=4, name="王小明")
    start(world, student)
    client = login("u321203")
    inbox = client.get("/").get_data(as_text=True)
    assert '<span class="badge" id="unread-count">1</span>' in inbox
    page = client.get("/notifications").get_data(as_text=True)
    assert "新的待办任务" in page and "王小明" in page
    (task_id,) = re.findall(r'href="/tasks/(\d+)">去办理', page)
    assert client.get(f"/tasks/{task_id}").status_code == 200
    assert 'id="unread-count"' not in client.get("/").get_data(as_text=True)
    (notice,) = notices(world, "321203")
    assert notice.read_at is not None
    # another county's users never see it
    other = login("u321202")
    assert "王小明" not in other.get("/notifications").get_data(as_text=True)


def test_a_failed_step_leaves_no_notice_behind(world):
    """Notices are written in the step's transaction: a refused step writes none."""
    student = world.student("P1", grade=4)
    instance = start(world, student)
    (task,) = engine.open_tasks(instance)
    before = Notification.query.count()
    try:
        engine.complete(task.id, world.users["321203"], {"decision": "return"})  # no comment
    except Invalid:
        pass
    db.session.rollback()
    assert Notification.query.count() == before
