"""Process-model versions: deploy the files in workflows/bpmn/ and pick the newest version."""

from __future__ import annotations

from pathlib import Path

from webapp.extensions import db
from webapp.models import ProcessVersion

from .procedures import PROCEDURES
from .specs import content_hash, parse

BPMN_DIR = Path(__file__).parent / "bpmn"
DEFAULT_VARIANT = "default"


def read_files(procedure: str) -> tuple[str, dict[str, str]]:
    bpmn = (BPMN_DIR / f"{procedure}.bpmn").read_text(encoding="utf-8")
    dmn = {
        p.name: p.read_text(encoding="utf-8") for p in sorted(BPMN_DIR.glob(f"{procedure}*.dmn"))
    }
    return bpmn, dmn


def validate_files() -> None:
    """Parse every shipped procedure; raises InvalidModel naming the element at fault."""
    for key in PROCEDURES:
        parse(key, *read_files(key))


def deploy(
    procedure: str, bpmn_xml: str, dmn: dict[str, str], variant: str = DEFAULT_VARIANT, user=None
) -> ProcessVersion:
    """Validate and store a new version unless the newest one has the same content."""
    parsed = parse(procedure, bpmn_xml, dmn)
    digest = content_hash(bpmn_xml, dmn)
    current = latest(procedure, variant)
    if current is not None and current.content_hash == digest:
        return current
    version = ProcessVersion(
        procedure=procedure,
        variant=variant,
        version=(current.version + 1) if current else 1,
        bpmn_xml=bpmn_xml,
        dmn=dmn,
        spec_json=parsed.spec_json,
        content_hash=digest,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    return version


def sync_files() -> list[ProcessVersion]:
    """Deploy every shipped procedure whose file changed since its newest version."""
    return [deploy(key, *read_files(key)) for key in PROCEDURES]


def latest(procedure: str, variant: str = DEFAULT_VARIANT) -> ProcessVersion | None:
    return (
        ProcessVersion.query.filter_by(procedure=procedure, variant=variant)
        .order_by(ProcessVersion.version.desc())
        .first()
    )
