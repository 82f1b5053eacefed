"""Engine behaviour that SpiffWorkflow 3.2.0 gets wrong unless worked around, and persistence."""

import json

import pytest

import handlers
from webapp.models import HumanTask, Instance
from workflows import engine

from .flows import transfer_data


def test_a_failing_handler_surfaces_its_own_error(world, monkeypatch):
    """3.2.0's call_service turns every handler error into NameError('script')."""

    def broken(ctx):
        raise ValueError("学籍库不可用")

    monkeypatch.setitem(handlers.HANDLERS, "transfer.check", broken)
    student = world.student("P1", grade=4)
    with pytest.raises(ValueError, match="学籍库不可用"):
        engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    assert Instance.query.count() == 0  # nothing half-written


def test_state_is_stored_without_the_spec(world):
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    state = json.loads(instance.state)
    assert "spec" not in state and "subprocess_specs" not in state
    assert instance.process_version.spec_json  # stored once per version instead


def test_open_task_rows_follow_the_workflow(world):
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    (task,) = HumanTask.query.filter_by(instance_id=instance.id).all()
    assert (task.state, task.role, task.org.code, task.lane) == (
        "open",
        "county",
        "321203",
        "to_county",
    )
    assert task.due_at is not None and task.due_at > task.created_at


def test_claimed_task_cannot_be_completed_by_a_colleague(world):
    from workflows.errors import Conflict

    colleague = world.user("u321203b", "321203", "county")
    student = world.student("P1", grade=4)
    instance = engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))
    (task,) = engine.open_tasks(instance)
    engine.claim(task.id, world.users["321203"])
    with pytest.raises(Conflict):
        engine.complete(task.id, colleague, {"decision": "approve"})
    engine.release(task.id, world.users["321203"])
    engine.complete(task.id, colleague, {"decision": "approve"})
