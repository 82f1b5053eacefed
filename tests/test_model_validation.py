"""A BPMN file that breaks the platform's conventions is refused with the element named."""

import pytest

from workflows import deploy
from workflows.deploy import read_files
from workflows.specs import InvalidModel, parse

GOOD, GOOD_DMN = read_files("transfer")
SEGMENTS = deploy.read_segments("transfer")  # the sending side's reviews


def problems(xml: str, segments: dict[str, str] = SEGMENTS) -> list[tuple[str, str]]:
    with pytest.raises(InvalidModel) as exc:
        parse("transfer", xml, {}, segments)
    return [(p.element, p.message) for p in exc.value.problems]


def broken(old: str, new: str) -> list[tuple[str, str]]:
    """The problems of the shipped transfer with `old` replaced, in the diagram or, where
    the diagram does not have it, in the segment that does."""
    if old in GOOD:
        return problems(GOOD.replace(old, new))
    (name,) = [name for name, xml in SEGMENTS.items() if old in xml]
    return problems(GOOD, {**SEGMENTS, name: SEGMENTS[name].replace(old, new)})


def test_shipped_transfer_parses():
    assert parse("transfer", GOOD, {}, SEGMENTS).spec.name == "transfer"


@pytest.mark.parametrize(
    ("old", "new", "element", "words"),
    [
        ('name="to_county"', 'name="district_office"', "lane_to_county", "泳道"),
        ('value="review"/>', 'value="no_such_form"/>', "to_county_review", "no_such_form"),
        ('id="transfer.move"', 'id="transfer.teleport"', "move_record", "transfer.teleport"),
        (
            'id="gw_city" name="需要市级审核？" default="f_no_city"',
            'id="gw_city" name="x"',
            "gw_city",
            "默认路径",
        ),
        (
            '<bpmn:endEvent id="end_rejected"',
            '<bpmn:endEvent id="finish_no"',
            "finish_no",
            "end_rejected",
        ),
        ("<bpmn:flowNodeRef>city_review</bpmn:flowNodeRef>", "", "city_review", "泳道"),
    ],
)
def test_convention_breaks_name_the_element(old, new, element, words):
    assert old in GOOD or any(old in xml for xml in SEGMENTS.values())
    found = broken(old, new)
    assert any(el == element and words in msg for el, msg in found), found


def test_bad_xml_is_refused():
    assert problems(GOOD[:-40])[0][0] == "definitions"


def test_wrong_process_id_is_refused():
    assert problems(GOOD.replace('<bpmn:process id="transfer"', '<bpmn:process id="xfer"'))


def test_a_new_version_only_when_the_content_changes(app):
    first = deploy.latest("transfer")
    assert deploy.deploy("transfer", GOOD, GOOD_DMN).id == first.id
    edited = GOOD.replace('name="转出学校审核"', 'name="转出学校审核（校长签字）"')
    second = deploy.deploy("transfer", edited, GOOD_DMN)
    assert second.version == first.version + 1
    assert deploy.latest("transfer").id == second.id
