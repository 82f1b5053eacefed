"""What a variant folder holds: only what differs from the default (a table for a switch, a
segment for a local branch, a whole diagram only where the main chain differs), and its
Chinese name beside its files."""

from __future__ import annotations

import difflib
import re

import pytest

from webapp.models import StatusHistory
from workflows import deploy, engine, migration, variants
from workflows.specs import InvalidModel

from .flows import evidence, open_steps, review, second_user

# -- a whole diagram only where the main chain differs ---------------------------------------

SIMILARITY_LIMIT = 0.80
OVERRIDING = [
    path
    for path in sorted(deploy.VARIANTS_DIR.glob("*/*.bpmn"))
    if (deploy.BPMN_DIR / path.name).is_file()
]


def _lines(xml: str) -> list[str]:
    """The diagram's lines without comments, indentation or blank lines: a note or a new
    indentation does not make a copy any less a copy."""
    text = re.sub(r"<!--.*?-->", "", xml, flags=re.S)
    return [line.strip() for line in text.splitlines() if line.strip()]


def similarity(variant_xml: str, default_xml: str) -> float:
    """difflib's ratio over lines: twice the lines both share over the lines of both."""
    matcher = difflib.SequenceMatcher(None, _lines(default_xml), _lines(variant_xml), False)
    return matcher.ratio()


def test_every_variant_diagram_is_checked():
    assert OVERRIDING  # the glob finds the shipped overrides
    assert {p.parent.name for p in OVERRIDING} <= set(deploy.shipped_variants())


@pytest.mark.parametrize("path", OVERRIDING, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_variant_diagram_is_not_a_copy_of_the_default(path):
    """A variant that shares 80 % or more of its lines with the default it overrides is a
    copy a later fix to the default never reaches: it should ship a table or a segment."""
    default = (deploy.BPMN_DIR / path.name).read_text(encoding="utf-8")
    share = similarity(path.read_text(encoding="utf-8"), default)
    assert share < SIMILARITY_LIMIT, (
        f"variants/{path.parent.name}/{path.name} shares {share:.0%} of its lines with "
        f"{path.name}: override a decision table or a called segment instead"
    )


def test_the_measure_catches_a_copy_with_one_switch_changed():
    default, _ = deploy.read_files("skip_grade")
    copy = default.replace('name="本地区跳级规定"', 'name="本地区跳级规定（山东）"')
    assert similarity(copy, default) > 0.95
    assert similarity(deploy.read_files("transfer", "yuhong")[0], default) < SIMILARITY_LIMIT


# -- the Chinese name beside the files -------------------------------------------------------


def test_labels_come_from_the_variant_folders():
    assert [variants.label(v) for v in ("default", *deploy.shipped_variants())] == [
        "默认（江苏泰州，中职按福建）（default）",
        "福建中职（fujian_vocational）",
        "山东（shandong）",
        "沈阳市于洪区（yuhong）",
        "竹山县（zhushan）",
    ]
    for variant in deploy.shipped_variants():
        assert (deploy.VARIANTS_DIR / variant / "variant.toml").is_file(), variant


def test_a_variant_without_a_name_shows_its_key(tmp_path, monkeypatch):
    monkeypatch.setattr(variants, "VARIANTS_DIR", tmp_path)
    (tmp_path / "nameless").mkdir()
    (tmp_path / "named").mkdir()
    (tmp_path / "named" / "variant.toml").write_text('name = "某县"\n', encoding="utf-8")
    assert variants.label("nameless") == "nameless"
    assert variants.label("named") == "某县（named）"
    assert variants.label("only_deployed") == "only_deployed"  # no folder at all


def test_a_malformed_variant_toml_stops_the_start(tmp_path, monkeypatch):
    folder = tmp_path / "somewhere"
    folder.mkdir()
    (folder / "variant.toml").write_text('name = "未闭合\n', encoding="utf-8")
    monkeypatch.setattr(deploy, "VARIANTS_DIR", tmp_path)
    with pytest.raises(InvalidModel) as exc:
        deploy.validate_files()
    assert exc.value.problems[0].element == "variants/somewhere/variant.toml"
    assert "TOML" in exc.value.problems[0].message


# -- a switch as a table: the deploy refuses a version without it; old versions still run -----


def test_a_version_without_its_switch_table_is_refused(app):
    bpmn, dmn = deploy.read_files("skip_grade")
    del dmn["skip_grade_policy.dmn"]
    with pytest.raises(InvalidModel) as exc:
        deploy.deploy("skip_grade", bpmn, dmn)
    assert "skip_grade_policy" in str(exc.value)


SCRIPT_SWITCH = (
    '    <bpmn:scriptTask id="local_rules" name="本地区跳级规定">\n'
    "      <bpmn:script>allow_skip_grade = True</bpmn:script>\n"
    "    </bpmn:scriptTask>"
)


def _script_version(bpmn: str) -> str:
    """The diagram as it was before the switch became a table (a script task)."""
    old = re.sub(
        r'    <bpmn:businessRuleTask id="local_rules".*?</bpmn:businessRuleTask>',
        "",
        bpmn,
        flags=re.S,
    )
    return old.replace(
        '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="local_rules"/>',
        '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="local_rules"/>\n'
        + SCRIPT_SWITCH,
    )


def test_an_instance_of_the_script_switch_version_finishes_on_its_own_version(world):
    bpmn, dmn = deploy.read_files("skip_grade")
    old = deploy.deploy("skip_grade", _script_version(bpmn), {})
    student = world.student("P1", grade=3)
    user = world.users["P1"]
    data = {"to_grade": 4, "to_class_name": "2", "evidence": evidence(user)}
    instance = engine.start("skip_grade", user, data, student_id=student.id)
    assert instance.process_version_id == old.id and instance.data["allow_skip_grade"] is True
    table = deploy.deploy("skip_grade", bpmn, dmn)
    assert table.version == old.version + 1
    # The switch lies behind the instance and changed its kind: it stays where it is.
    decided = migration.plan(instance)
    assert not decided.allowed and decided.blocking == ["local_rules"]
    instance = review(world, instance, second_user(world, "P1"))
    instance = review(world, instance, "321202")
    assert (instance.status, instance.process_version_id) == ("completed", old.id)
    assert (student.grade, student.class_name) == (4, "2")
    assert StatusHistory.query.filter_by(instance_id=instance.id).count() == 1
    # A new instance runs the table version.
    other = world.student("P1", grade=3)
    data = {"to_grade": 4, "to_class_name": "2", "evidence": evidence(user)}
    fresh = engine.start("skip_grade", user, data, student_id=other.id)
    assert fresh.process_version_id == table.id and fresh.data["allow_skip_grade"] is True
    assert open_steps(fresh) == [("school_review", "P1")]
