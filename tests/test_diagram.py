"""The instance on its diagram: which elements are done, current, rejected at and failed, for
the pages (session, `diagram.json`) and the API (bearer token) alike, within reach only."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.models import Incident, Instance
from workflows import engine

from .flows import transfer_data


@pytest.fixture
def transfer(world) -> Instance:
    """A P1 pupil moving to P3 (高港), waiting at the receiving county's review."""
    student = world.student("P1", grade=4)
    db.session.commit()
    return engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))


def review(instance: Instance, user, decision: str, comment: str = "") -> None:
    (task,) = engine.open_tasks(instance)
    engine.complete(task.id, user, {"decision": decision, "comment": comment})


def state_of(login, instance_id: int, username: str = "uP3") -> dict:
    resp = login(username).get(f"/instances/{instance_id}/diagram.json")
    assert resp.status_code == 200
    return resp.get_json()


def test_a_running_transfer_shows_steps_done_and_the_one_waiting(login, transfer):
    state = state_of(login, transfer.id)
    assert state["bpmn_xml"].lstrip().startswith("<?xml")
    assert state["completed"][:3] == ["start", "check_rules", "gw_check"]
    assert state["active"] == ["to_county_review"]
    assert state["rejected"] == [] and state["failed"] == []
    # each lane is named by the organisation acting in it for this instance; the starting
    # school, which named the pupil by ID number, not the pupil's side before it approves
    assert state["lanes"]["lane_to_school"] == "高港实验小学"
    assert state["lanes"]["lane_from_school"] == "转出地学校"
    assert state["lanes"]["lane_to_county"] == "高港区"
    lanes = state_of(login, transfer.id, "u3212")["lanes"]
    assert (lanes["lane_from_school"], lanes["lane_to_school"]) == ("海陵实验小学", "高港实验小学")


def test_a_rejected_transfer_marks_the_review_and_the_end(login, transfer, world):
    review(transfer, world.users["321203"], "reject", "材料不全")
    state = state_of(login, transfer.id)
    assert state["rejected"] == ["to_county_review", "end_rejected"]
    assert state["active"] == []
    assert "to_county_review" in state["completed"] and "end_rejected" in state["completed"]


def test_an_automatic_rejection_marks_the_failed_check(login, world):
    student = world.student("P1", grade=4)
    db.session.commit()
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3", to_grade=5))
    assert instance.status == "rejected" and instance.reason == "grade_unchanged"
    assert state_of(login, instance.id)["rejected"] == ["check_rules", "end_rejected"]


def test_open_incidents_mark_their_step_failed(login, transfer):
    db.session.add(Incident(instance_id=transfer.id, step="to_county_review", error="超时"))
    # an incident may name the handler rather than the element: its service task is meant
    db.session.add(Incident(instance_id=transfer.id, step="transfer.check", error="连接失败"))
    db.session.add(
        Incident(
            instance_id=transfer.id,
            step="move_record",
            error="已处理",
            resolved_at=transfer.created_at,
        )
    )
    db.session.commit()
    state = state_of(login, transfer.id)
    assert state["failed"] == ["to_county_review", "check_rules"]
    assert state["active"] == []


def test_the_page_and_the_api_answer_alike(login, api, transfer):
    page = state_of(login, transfer.id)
    via_api = api("uP3").get(f"/api/v1/instances/{transfer.id}/diagram")
    assert via_api.status_code == 200
    assert via_api.get_json() == page


@pytest.mark.parametrize("outsider", ["uP2", "uP4", "u321002"])
def test_diagram_json_is_404_outside_reach(login, transfer, outsider):
    assert login(outsider).get(f"/instances/{transfer.id}/diagram.json").status_code == 404


def test_diagram_json_needs_a_session(client, transfer):
    resp = client.get(f"/instances/{transfer.id}/diagram.json")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get(f"/api/v1/instances/{transfer.id}/diagram").status_code == 401


def test_the_city_above_both_sides_sees_the_diagram(login, transfer):
    assert state_of(login, transfer.id, "u3212")["active"] == ["to_county_review"]


def test_instance_and_task_pages_carry_the_diagram_panel(login, transfer):
    client = login("u321203")
    url = f'data-url="/instances/{transfer.id}/diagram.json"'
    (task,) = engine.open_tasks(transfer)
    for page in (f"/instances/{transfer.id}", f"/tasks/{task.id}"):
        html = client.get(page).get_data(as_text=True)
        assert url in html and "流程图加载中" in html, page
        assert "/static/build/diagram.js" in html and "流程图加载失败" in html
        assert html.index('id="diagram"') < html.index("办理记录")
