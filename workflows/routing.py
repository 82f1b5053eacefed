"""Lanes are slots, not people: resolve a slot to an organisation and a role.

A slot names side and level (`to_county`); the side's school id is in the instance data
(`to_school_id`, `from_school_id`, or `school_id` for one-sided procedures) and the level
is found by walking up the organisation tree. Before a county has placed a student, the
side has only its county (`to_county_id`), which answers for its own level and above.
"""

from __future__ import annotations

from webapp.models import Organization, db

LEVELS = ("school", "county", "city", "province")
SIDES = ("", "from_", "to_")
SLOTS = frozenset(side + level for side in SIDES for level in LEVELS)


class RoutingError(Exception):
    pass


def slot_role(slot: str) -> str:
    return slot.rsplit("_", 1)[-1]


def resolve(slot: str, data: dict) -> Organization:
    """The organisation that acts in `slot` for an instance with this data."""
    if slot not in SLOTS:
        raise RoutingError(f"未知的泳道：{slot}")
    level = slot_role(slot)
    side = slot[: -len(level)]
    known_id = data.get(f"{side}school_id")
    if known_id is None and level != "school":
        known_id = data.get(f"{side}county_id")
    if known_id is None:
        raise RoutingError(f"流程数据缺少 {side}school_id，无法确定“{slot}”对应的单位")
    known = db.session.get(Organization, known_id)
    org = known.ancestor(level) if known else None
    if org is None:
        raise RoutingError(f"找不到“{slot}”对应的{level}级单位")
    return org
