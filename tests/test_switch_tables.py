"""Switches a region may change are one-row decision tables with today's rule as the
default: the graduating year (transfer, suspension) and early resumption."""

from __future__ import annotations

from webapp.extensions import db
from workflows import deploy, engine

from .flows import transfer_data
from .test_suspension import start, suspend


def _deploy(procedure: str, table: str, old: str, new: str, variant: str = "default") -> None:
    bpmn, dmn = deploy.read_files(procedure)
    dmn[f"{table}.dmn"] = dmn[f"{table}.dmn"].replace(old, new)
    deploy.deploy(procedure, bpmn, dmn, variant=variant)
    db.session.commit()


def _transfer(world, grade: int):
    student = world.student("P1", grade=grade)
    return engine.start("transfer", world.users["P3"], transfer_data(student, "P3"))


def test_a_table_without_graduating_grades_lets_grade_six_transfer(world):
    assert _transfer(world, 6).reason == "graduating_year"  # the shipped table: 6, 9, 12
    _deploy("transfer", "transfer_graduating_year", "[6, 9, 12]", "[]")
    assert _transfer(world, 6).status == "running"


def test_a_transfer_version_without_the_table_keeps_todays_graduating_year(world):
    bpmn, _ = deploy.read_files("transfer")
    deploy.deploy("transfer", bpmn, {})
    db.session.commit()
    instance = _transfer(world, 6)
    assert instance.reason == "graduating_year" and instance.process_version.dmn == {}


def test_a_region_table_may_allow_an_early_resumption(world):
    student = world.student("P1", grade=3)
    suspend(world, student)
    early = {"resume_date": "2027-09-06", "to_grade": 3}
    assert start(world, student, "resumption", **early).reason == "no_early_return"
    _deploy("resumption", "resumption_early_return", "<text>False</text>", "<text>True</text>")
    assert start(world, student, "resumption", **early).status == "running"


def test_a_resumption_version_without_the_table_refuses_an_early_return(world):
    student = world.student("P1", grade=3)
    suspend(world, student)
    bpmn, dmn = deploy.read_files("resumption")
    del dmn["resumption_early_return.dmn"]
    deploy.deploy("resumption", bpmn, dmn)
    db.session.commit()
    instance = start(world, student, "resumption", resume_date="2027-09-06", to_grade=3)
    assert instance.reason == "no_early_return"


def test_a_suspension_table_may_change_the_graduating_year(world):
    """The default ships `suspension_graduating_year` (the last grade of each stage; it was
    Python's GRADUATING_GRADES where no variant shipped one, issue 14.9); a region edits it."""
    student = world.student("P1", grade=6)
    assert start(world, student).reason == "graduating_year"
    _deploy("suspension", "suspension_graduating_year", "[6, 9, 12]", "[9, 12]")
    assert start(world, student).status == "running"


def test_a_suspension_version_without_the_table_keeps_the_last_grade_of_each_stage(world):
    """A version deployed before the table existed is answered by the shipped default's."""
    version = deploy.newest("suspension")
    version.dmn = {k: v for k, v in version.dmn.items() if k != "suspension_graduating_year.dmn"}
    db.session.commit()
    refused = start(world, world.student("P1", grade=6))
    assert refused.reason == "graduating_year" and "000 第十七条" in refused.reason_message
    assert start(world, world.student("P1", grade=5)).status == "running"
