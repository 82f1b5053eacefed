"""Regional variants: which variant a city or county runs, and which one a new instance gets.

A city or a county may be assigned a variant (`Organization.variant`); the county's own
assignment wins over its city's, and where neither has one the default runs. A new
instance takes the variant of the organisation that starts it; for a two-sided procedure
(transfer, borrow-study) that is the receiving side's school. The files of each variant
are in workflows/bpmn/variants/<variant>/ (see workflows/deploy.py), its Chinese name in
the folder's variant.toml.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from webapp.models import LEVEL_LABELS, Organization, ProcessVersion, audit, db
from webapp.models.vocabulary import PROCEDURES

from .deploy import BPMN_DIR, DEFAULT_VARIANT, VARIANTS_DIR, overrides, shipped_variants

ASSIGNABLE_LEVELS = ("city", "county")
# A variant's metadata lives beside its files: `name = "山东"` in variants/<variant>/variant.toml
# (the default's in workflows/bpmn/variant.toml).
METADATA_FILE = "variant.toml"


class VariantError(Exception):
    """A refused assignment; the message is Chinese and says why."""


def folder(variant: str) -> Path:
    return BPMN_DIR if variant == DEFAULT_VARIANT else VARIANTS_DIR / variant


@lru_cache(maxsize=64)
def _metadata(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def name(variant: str) -> str | None:
    """The variant's Chinese name from its folder's variant.toml (None: it has none)."""
    value = _metadata(folder(variant) / METADATA_FILE).get("name")
    return (value.strip() or None) if isinstance(value, str) else None


def label(variant: str) -> str:
    """`山东（shandong）`; a variant without a name (or only deployed) shows its key."""
    named = name(variant)
    return f"{named}（{variant}）" if named else variant


def known() -> list[str]:
    """The default, every shipped variant, and any variant only deployed (e.g. by the API)."""
    deployed = {v for (v,) in db.session.query(ProcessVersion.variant).distinct()}
    return [DEFAULT_VARIANT, *sorted((set(shipped_variants()) | deployed) - {DEFAULT_VARIANT})]


def variant_for(org: Organization | None) -> str:
    """The variant `org` runs: its county's if assigned, else its city's, else the default.

    A school has no assignment of its own; a city's assignment reaches every county below
    it that has none.
    """
    if org is None:
        return DEFAULT_VARIANT
    for level in ("county", "city"):
        holder = org.ancestor(level)
        if holder is not None and holder.variant:
            return holder.variant
    return DEFAULT_VARIANT


def starting_org(
    procedure: str, school_id: int, partner_school_id: int | None, sending_side: bool = False
) -> Organization:
    """The organisation whose variant a new instance takes: the receiving side's school for
    a two-sided procedure (the sending side's where its variant lets the sending school start
    it), otherwise the student's (or the cohort's) school."""
    proc = PROCEDURES.get(procedure)
    if proc is not None and proc.two_sided and partner_school_id is not None and not sending_side:
        return db.session.get(Organization, partner_school_id)
    return db.session.get(Organization, school_id)


def for_start(
    procedure: str, school_id: int, partner_school_id: int | None = None, sending_side: bool = False
) -> str:
    return variant_for(starting_org(procedure, school_id, partner_school_id, sending_side))


def assign(org_code: str, variant: str, user=None) -> Organization:
    """Let a city or county run `variant` (`default` clears its own assignment, so it runs
    its city's again); audited. Raises VariantError with a Chinese message."""
    org = db.session.scalar(db.select(Organization).filter_by(code=org_code))
    if org is None:
        raise VariantError(f"单位代码 {org_code} 不存在。")
    if org.level not in ASSIGNABLE_LEVELS:
        raise VariantError(
            f"{org.name}（{org_code}）是{_level_name(org.level)}：地区变体只能指定给市或县（区），"
            "学校随所在县（区）或市执行。"
        )
    choices = known()
    if variant not in choices:
        raise VariantError(
            f"没有名为“{variant}”的地区变体。可用：{'、'.join(choices)}（default 为默认规则）。"
        )
    before = {"variant": org.variant}
    org.variant = None if variant == DEFAULT_VARIANT else variant
    audit(user, "variant.assign", org, before, {"variant": org.variant, "org": org.code})
    db.session.commit()
    return org


def _level_name(level: str) -> str:
    return f"{LEVEL_LABELS.get(level, level)}级单位"


@dataclass(frozen=True)
class Assignment:
    org: Organization
    own: str | None  # its own assignment (None: none)
    runs: str  # what its schools run: own, else the city's, else the default
    inherited_from: Organization | None  # the city whose assignment it runs


def assignments() -> list[Assignment]:
    """Every city and county with its own assignment and the variant its schools run."""
    orgs = (
        Organization.query.filter(Organization.level.in_(ASSIGNABLE_LEVELS))
        .order_by(Organization.code)
        .all()
    )
    rows = []
    for org in orgs:
        runs = variant_for(org)
        city = org.ancestor("city") if org.level == "county" else None
        inherited = city if not org.variant and city is not None and city.variant else None
        rows.append(Assignment(org, org.variant, runs, inherited))
    return rows


def overridden_files(variant: str) -> dict[str, list[str]]:
    """Procedure → the file names a shipped variant overrides (procedures it changes only)."""
    return {key: files for key in PROCEDURES if (files := overrides(key, variant))}
