"""Moving running instances to a newer version: allowed only where the change lies ahead."""

from __future__ import annotations

import pytest

from workflows import deploy, engine, migration
from workflows.errors import Conflict, Forbidden

from .flows import act, approve_all, open_steps, transfer_data

TRANSFER, _ = deploy.read_files("transfer")


def new_version(old: str, new: str):
    assert old in TRANSFER
    return deploy.deploy("transfer", TRANSFER.replace(old, new), {})


def transfer(world):
    student = world.student("P1", grade=4)
    return engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))


def test_a_change_ahead_of_the_instance_migrates_and_is_used(world):
    instance = transfer(world)
    assert open_steps(instance) == [("to_county_review", "321203")]
    v2 = new_version('name="转出学校审核"', 'name="转出学校审核（校长签字）"')
    decided = migration.plan(instance)
    assert decided.allowed and (decided.from_version, decided.to_version) == (1, v2.version)
    migration.migrate(instance.id, world.users["admin"])
    assert instance.process_version_id == v2.id
    assert open_steps(instance) == [("to_county_review", "321203")]
    assert any(e.step == "migrate" and "迁移到 2" in e.name for e in instance.events)
    instance = act(world, instance)
    assert [t.name for t in engine.open_tasks(instance)] == ["转出学校审核（校长签字）"]
    approve_all(world, instance)
    assert instance.status == "completed"


def test_a_change_to_a_step_already_done_is_refused(world):
    instance = transfer(world)
    new_version('name="转学规则自动检查"', 'name="转学规则检查（新）"')
    decided = migration.plan(instance)
    assert not decided.allowed and decided.blocking == ["check_rules"]
    assert "check_rules" in decided.reason
    with pytest.raises(Conflict, match="check_rules"):
        migration.migrate(instance.id, world.users["admin"])
    assert instance.process_version.version == 1


def test_bulk_migration_moves_those_it_may_and_says_why_not_for_the_rest(world):
    early = transfer(world)
    late = act(world, act(world, transfer(world)))  # past the sending school's review
    assert open_steps(late) == [("from_county_review", "321202")]
    new_version('name="转出学校审核"', 'name="转出学校审核（校长签字）"')
    results = {
        p.instance_id: p for p in migration.migrate_all("transfer", "default", world.users["admin"])
    }
    assert results[early.id].allowed and early.process_version.version == 2
    assert not results[late.id].allowed and late.process_version.version == 1
    assert results[late.id].blocking == ["from_school_review"]


def test_only_admins_migrate_and_nothing_to_do_is_said(world):
    instance = transfer(world)
    assert migration.plan(instance).reason == "已在最新版本上。"
    new_version('name="转出学校审核"', 'name="转出学校审核（校长签字）"')
    with pytest.raises(Forbidden):
        migration.migrate(instance.id, world.users["321203"])
