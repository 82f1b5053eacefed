"""Due-date reminders two working days ahead, and the supervising level's overdue list."""

from __future__ import annotations

import re
from datetime import datetime

import time_machine

from webapp.extensions import db
from webapp.models import CHINA, HumanTask, Notification
from workflows import engine
from workflows.deadlines import send_due_reminders

from .flows import act, transfer_data


def beijing(*args):
    """Travel to a Beijing-time moment; the clock stands still there."""
    return time_machine.travel(datetime(*args, tzinfo=CHINA), tick=False)


def transfer(world, from_school: str, to_school: str, name: str | None = None):
    student = world.student(from_school, grade=4, name=name)
    return engine.start("transfer", world.users[to_school], transfer_data(student, to_school))


def reminders(org_code: str, world) -> list[Notification]:
    return Notification.query.filter_by(org_id=world.orgs[org_code].id, kind="reminder").all()


# -- reminders ---------------------------------------------------------------------------------


def test_reminder_two_working_days_before_the_due_day_across_national_day(world):
    # ready Thursday 18 Sep 2025 → due Thursday 9 Oct (the holiday 1–8 Oct does not count,
    # the working Sunday 28 Sep does); two working days before 9 Oct is Monday 29 Sep
    with beijing(2025, 9, 18, 10):
        instance = transfer(world, "P1", "P3", name="王小明")
    (task,) = engine.open_tasks(instance)
    assert task.due_at == datetime(2025, 10, 9, 15, 59, 59)
    with beijing(2025, 9, 28, 18):
        assert send_due_reminders() == 0
    with beijing(2025, 9, 29, 8):
        assert send_due_reminders() == 1
        assert send_due_reminders() == 0  # once only
    (notice,) = reminders("321203", world)
    assert notice.role == "county" and notice.task_id == task.id
    assert "办理期限提醒" in notice.message and "王小明" in notice.message
    assert "2025-10-09" in notice.message and "转入地县级教育行政部门审核" in notice.message
    db.session.refresh(task)
    assert task.reminded_at == datetime(2025, 9, 29, 0, 0)  # 08:00 Beijing
    with beijing(2025, 10, 10, 8):
        assert send_due_reminders() == 0  # overdue now, but reminded already


def test_the_adjusted_working_saturday_counts_for_the_reminder(world):
    # ready Wednesday 24 Sep 2025 → due Tuesday 14 Oct; two working days before it are
    # Monday 13 and the working Saturday 11 Oct (a plain week would say Friday 10 Oct)
    with beijing(2025, 9, 24, 10):
        instance = transfer(world, "P1", "P3")
    (task,) = engine.open_tasks(instance)
    assert task.due_at == datetime(2025, 10, 14, 15, 59, 59)
    with beijing(2025, 10, 10, 23):
        assert send_due_reminders() == 0
    with beijing(2025, 10, 11, 9):
        assert send_due_reminders() == 1
    assert len(reminders("321203", world)) == 1


def test_a_step_found_after_its_due_day_is_reminded_as_overdue_and_done_steps_never(world):
    with beijing(2025, 9, 18, 10):
        late = transfer(world, "P1", "P3")
        done = transfer(world, "P2", "P3")
        act(world, done)  # the county reviewed it in time: the next step is the school's
    (school_step,) = engine.open_tasks(done)
    with beijing(2025, 10, 20, 9):
        assert send_due_reminders() == 2
    messages = {n.task_id: n.message for n in Notification.query.filter_by(kind="reminder")}
    (late_task,) = engine.open_tasks(late)
    assert set(messages) == {late_task.id, school_step.id}
    assert (
        messages[late_task.id].startswith("逾期提醒")
        and "已于 2025-10-09 到期" in messages[late_task.id]
    )
    completed = HumanTask.query.filter_by(instance_id=done.id, state="completed").one()
    assert completed.reminded_at is None


def test_reminders_come_in_batches(world):
    with beijing(2025, 9, 18, 10):
        for school in ("P1", "P2"):
            transfer(world, school, "P3")
    with beijing(2025, 9, 30, 9):
        assert send_due_reminders(limit=1) == 1
        assert send_due_reminders(limit=1) == 1
        assert send_due_reminders(limit=1) == 0


def test_the_reminder_shows_in_the_notification_centre(world, login):
    with beijing(2025, 9, 18, 10):
        transfer(world, "P1", "P3")
    client = login("u321203")
    with beijing(2025, 9, 29, 8):
        send_due_reminders()
        page = client.get("/").get_data(as_text=True)
        unread = int(re.search(r'id="unread-count">(\d+)<', page).group(1))
        notices = client.get("/notifications").get_data(as_text=True)
    assert unread == 2  # the new task and its reminder
    assert "办理期限提醒" in notices and "去办理" in notices


# -- overdue in my area --------------------------------------------------------------------------


def overdue_world(world):
    """Overdue on 20 Oct 2025: a county step at 321203, a school step at P2 (321202), and a
    county step at 321002 in the other city."""
    with beijing(2025, 9, 18, 10):
        county_step = transfer(world, "P1", "P3", name="县级待办")
        school_step = transfer(world, "P2", "P3", name="学校待办")
        act(world, school_step)
        other_city = transfer(world, "P1", "P4", name="外市待办")
    return county_step, school_step, other_city


def counts(page: str) -> dict[str, int]:
    return {code: int(n) for code, n in re.findall(r'data-org="(\w+)">(\d+)<', page)}


def test_a_county_sees_its_schools_overdue_steps(world, login):
    overdue_world(world)
    client = login("u321202")
    with beijing(2025, 10, 20, 9):
        page = client.get("/overdue").get_data(as_text=True)
    assert "逾期督办" in page
    assert counts(page) == {"P2": 1}
    assert "学校待办" in page and "县级待办" not in page and "外市待办" not in page
    assert "转出学校审核" in page and "2025-10-09" in page and "逾期" in page
    # the receiving county has no overdue school step (its own step is in its inbox)
    other = login("u321203")
    with beijing(2025, 10, 20, 9):
        page = other.get("/overdue").get_data(as_text=True)
    assert counts(page) == {} and "没有逾期未办的步骤" in page


def test_a_city_sees_its_counties_and_on_request_every_level_below(world, login, app):
    overdue_world(world)
    client = login("u3212")
    with beijing(2025, 10, 20, 9):
        direct = client.get("/overdue").get_data(as_text=True)
        app.config["PER_PAGE"] = 1
        everything = client.get("/overdue?range=all").get_data(as_text=True)
        second = client.get("/overdue?range=all&page=2").get_data(as_text=True)
        only_p2 = client.get(f"/overdue?range=all&org={world.orgs['P2'].id}").get_data(as_text=True)
    assert counts(direct) == {"321203": 1} and "县级待办" in direct and "学校待办" not in direct
    assert counts(everything) == {"321203": 1, "P2": 1}
    assert "共 2 条" in everything and 'id="overdue-total">2<' in everything
    assert ("县级待办" in everything) != ("县级待办" in second)
    assert "外市待办" not in everything + second
    assert "学校待办" in only_p2 and "县级待办" not in only_p2.split("逾期步骤")[1]


def test_the_overdue_list_stays_inside_the_users_reach(world, login):
    overdue_world(world)
    with beijing(2025, 10, 20, 9):
        yangzhou = login("u3210").get("/overdue").get_data(as_text=True)
        assert counts(yangzhou) == {"321002": 1} and "外市待办" in yangzhou
        county = login("u321202")
        outside = county.get(f"/overdue?org={world.orgs['P3'].id}")
        assert outside.status_code == 404
        assert county.get(f"/overdue?range=all&org={world.orgs['P4'].id}").status_code == 404
        assert login("uP1").get("/overdue").status_code == 403
        assert login("admin").get("/overdue").status_code == 403
    with beijing(2025, 10, 9, 20):  # the last day: nothing overdue yet
        assert counts(login("u3212").get("/overdue?range=all").get_data(as_text=True)) == {}


def test_the_nav_links_the_overdue_list_for_bureaus_only(world, login):
    assert "逾期督办" in login("u321202").get("/").get_data(as_text=True)
    assert "逾期督办" in login("u3212").get("/").get_data(as_text=True)
    assert "逾期督办" not in login("uP1").get("/").get_data(as_text=True)
