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
    """The default ships none (the last grade of each stage); a region may ship one."""
    student = world.student("P1", grade=6)
    assert start(world, student).reason == "graduating_year"
    bpmn, dmn = deploy.read_files("suspension")
    table = deploy.read_files("transfer")[1]["transfer_graduating_year.dmn"]
    table = table.replace("transfer_graduating_year", "suspension_graduating_year")
    dmn["suspension_graduating_year.dmn"] = table.replace("[6, 9, 12]", "[9, 12]")
    deploy.deploy("suspension", bpmn, dmn)
    db.session.commit()
    assert start(world, student).status == "running"
