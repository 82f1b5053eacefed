"""Process-model versions: deploy the files in workflows/bpmn/ and pick the newest version.

A regional variant lives in workflows/bpmn/variants/<variant>/ and holds only the files it
overrides: `<procedure>.bpmn` and/or `<procedure>*.dmn` (and its Chinese name, `variant.toml`).
Everything else comes from the default, so a variant that changes one number or switch ships
one decision table. Each variant's files are deployed as versions of that variant; a variant
without a version of a procedure runs the default's (`latest`).

A local branch of a chain is a segment: the default diagram calls it (a `callActivity`
whose calledElement is the segment's process id) and the default ships it as
`segments/<segment>.bpmn`; a variant replaces it with `variants/<variant>/segments/
<segment>.bpmn` and keeps the rest of the default's diagram, so a later fix to the default
reaches it. A version stores the segments its diagram calls (`ProcessVersion.segments`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from lxml import etree

import forms
import handlers
from forms.parse_errors import located
from webapp.models import ProcessVersion, db
from webapp.models.vocabulary import PROCEDURES

from .specs import (
    InvalidModel,
    ParsedModel,
    Problem,
    called_segments,
    content_hash,
    parse,
    steps_used,
)

BPMN_DIR = Path(__file__).parent / "bpmn"
VARIANTS_DIR = BPMN_DIR / "variants"
SEGMENTS = "segments"  # the folder of segments, in BPMN_DIR and in a variant's folder
DEFAULT_VARIANT = "default"


def _dmn_files(folder: Path, procedure: str) -> list[Path]:
    """`<procedure>*.dmn` in `folder`, but not another procedure's files that share the prefix
    (borrow_return*.dmn is not borrow's)."""
    longer = [k for k in PROCEDURES if k != procedure and k.startswith(procedure)]
    return [
        p
        for p in sorted(folder.glob(f"{procedure}*.dmn"))
        if not any(p.name.startswith(k) for k in longer)
    ]


def shipped_variants() -> list[str]:
    """The variants shipped as folders of workflows/bpmn/variants/."""
    if not VARIANTS_DIR.is_dir():
        return []
    return sorted(p.name for p in VARIANTS_DIR.iterdir() if p.is_dir())


def overrides(procedure: str, variant: str) -> list[str]:
    """The file names a shipped variant overrides for `procedure` (empty: it runs the default):
    its diagram, its decision tables and the segments (`segments/<id>.bpmn`) its diagram calls."""
    if variant == DEFAULT_VARIANT:
        return []
    folder = VARIANTS_DIR / variant
    bpmn = folder / f"{procedure}.bpmn"
    names = [bpmn.name] if bpmn.is_file() else []
    names += [p.name for p in _dmn_files(folder, procedure)]
    own = [s for s in read_segments(procedure, variant) if _segment_file(s, variant) is not None]
    return names + [f"{SEGMENTS}/{s}.bpmn" for s in own]


def _segment_file(segment: str, variant: str) -> Path | None:
    """The variant's own file of `segment` (None: it has none)."""
    if variant == DEFAULT_VARIANT:
        return None
    path = VARIANTS_DIR / variant / SEGMENTS / f"{segment}.bpmn"
    return path if path.is_file() else None


def shipped_segment(segment: str, variant: str = DEFAULT_VARIANT) -> str | None:
    """A segment's shipped BPMN: the variant's file, else the default's (None: neither)."""
    path = _segment_file(segment, variant) or BPMN_DIR / SEGMENTS / f"{segment}.bpmn"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def read_segments(
    procedure: str, variant: str = DEFAULT_VARIANT, bpmn_xml: str | None = None
) -> dict[str, str]:
    """The shipped segments the procedure's diagram (or `bpmn_xml`) calls, each the
    variant's file where it ships one, else the default's."""
    if bpmn_xml is None:
        bpmn_xml = read_files(procedure, variant)[0]
    return called_segments(bpmn_xml, lambda segment: shipped_segment(segment, variant))


def segments_for(
    procedure: str, variant: str, bpmn_xml: str, given: dict[str, str] | None = None
) -> dict[str, str]:
    """The segments a version of `bpmn_xml` runs: those `given`, else those of the variant's
    newest version (what its instances run now), else the shipped files. Segments the
    diagram does not call are left out."""
    given = given or {}
    stored: dict[str, str] | None = None

    def lookup(segment: str) -> str | None:
        nonlocal stored
        if segment in given:
            return given[segment]
        if stored is None:  # asked only when a segment is not given
            current = newest(procedure, variant)
            stored = (current.segments or {}) if current is not None else {}
        return stored.get(segment) or shipped_segment(segment, variant)

    return called_segments(bpmn_xml, lookup)


def parsed(version: ProcessVersion) -> ParsedModel:
    """A stored version parsed (a version from before segments has none)."""
    return parse(version.procedure, version.bpmn_xml, version.dmn, version.segments or {})


def read_files(procedure: str, variant: str = DEFAULT_VARIANT) -> tuple[str, dict[str, str]]:
    """The BPMN and DMN of a procedure: the default's, with a variant's files laid over it
    (a variant's DMN file replaces the default's of the same name, or adds a table)."""
    bpmn = (BPMN_DIR / f"{procedure}.bpmn").read_text(encoding="utf-8")
    dmn = {p.name: p.read_text(encoding="utf-8") for p in _dmn_files(BPMN_DIR, procedure)}
    if variant != DEFAULT_VARIANT:
        folder = VARIANTS_DIR / variant
        if not folder.is_dir():
            raise KeyError(f"没有名为“{variant}”的地区变体（{VARIANTS_DIR}）")
        if (folder / f"{procedure}.bpmn").is_file():
            bpmn = (folder / f"{procedure}.bpmn").read_text(encoding="utf-8")
        dmn.update({p.name: p.read_text(encoding="utf-8") for p in _dmn_files(folder, procedure)})
    return bpmn, dict(sorted(dmn.items()))


def decision_ids(dmn: dict[str, str]) -> set[str]:
    ids = set()
    for xml in dmn.values():
        try:
            root = etree.fromstring(xml.encode())
        except etree.XMLSyntaxError:
            continue  # parse() names the broken file
        ids.update(el.get("id") for el in root.iter("{*}decision"))
    return ids


def check_decisions(
    procedure: str, bpmn_xml: str, dmn: dict[str, str], segments: dict[str, str] | None = None
) -> None:
    """Refuse a version that lacks a decision table its handlers ask (in its diagram or in a
    segment the diagram calls); the tables are declared where they are asked."""
    handlers.load_all()
    forms.load_all()
    asked = [*handlers.PROCEDURE_TABLES.get(procedure, ())]
    for step in sorted(steps_used(bpmn_xml, segments)):
        form = forms.FORMS.get(step)
        declared = handlers.STEP_TABLES.get(step, ()) + (form.tables if form else ())
        asked += [d for d in declared if d not in asked]
    missing = [d for d in asked if d not in decision_ids(dmn)]
    if missing:
        raise InvalidModel(
            [Problem(d, f"缺少决策表“{d}”：{procedure} 的自动步骤要查这张表") for d in missing]
        )


def _stray_files(variant: str) -> list[Problem]:
    """A variant file that belongs to no procedure would be ignored silently: refuse it."""
    problems = []
    called = {s for key in PROCEDURES for s in read_segments(key, variant)}
    for path in sorted((VARIANTS_DIR / variant).iterdir()):
        if path.name.startswith((".", "README")):
            continue
        if path.name == "variant.toml":  # its metadata (the Chinese name: workflows/variants.py)
            problems.extend(_metadata_problems(variant, path))
            continue
        if path.name == SEGMENTS and path.is_dir():
            problems += [
                Problem(
                    f"variants/{variant}/{SEGMENTS}/{segment.name}",
                    "没有流程调用这个子流程：文件名应为某个调用活动的 calledElement（<子流程>.bpmn）",
                )
                for segment in sorted(path.iterdir())
                if not segment.name.startswith(".") and segment.stem not in called
            ]
            continue
        known = any(
            path.name == f"{key}.bpmn" or path in _dmn_files(path.parent, key) for key in PROCEDURES
        )
        if not known:
            problems.append(
                Problem(
                    f"variants/{variant}/{path.name}",
                    "文件名不对应任何流程：应为 <流程>.bpmn 或 <流程>*.dmn",
                )
            )
    return problems


def _metadata_problems(variant: str, path: Path) -> list[Problem]:
    try:
        name = tomllib.loads(path.read_text(encoding="utf-8")).get("name", "")
    except tomllib.TOMLDecodeError as exc:
        return [Problem(f"variants/{variant}/{path.name}", f"TOML 格式错误，{located(exc)}")]
    if not isinstance(name, str):
        return [Problem(f"variants/{variant}/{path.name}", 'name 必须是文字，如 name = "山东"')]
    return []


def validate_files() -> None:
    """Parse every shipped procedure, default and variants; raises InvalidModel naming the
    element (or the file) at fault."""
    for variant in shipped_variants():
        problems = _stray_files(variant)
        if problems:
            raise InvalidModel(problems)
    for key in PROCEDURES:
        for variant in [DEFAULT_VARIANT, *shipped_variants()]:
            if variant != DEFAULT_VARIANT and not overrides(key, variant):
                continue
            bpmn, dmn = read_files(key, variant)
            segments = read_segments(key, variant, bpmn)
            parse(key, bpmn, dmn, segments)
            check_decisions(key, bpmn, dmn, segments)


def deploy(
    procedure: str,
    bpmn_xml: str,
    dmn: dict[str, str],
    variant: str = DEFAULT_VARIANT,
    user=None,
    segments: dict[str, str] | None = None,
) -> ProcessVersion:
    """Validate and store a new version unless the newest one has the same content.

    `segments` are the segments the diagram calls (`segments_for` fills in those not given)."""
    segments = segments_for(procedure, variant, bpmn_xml, segments)
    model = parse(procedure, bpmn_xml, dmn, segments)
    check_decisions(procedure, bpmn_xml, dmn, segments)
    digest = content_hash(bpmn_xml, dmn, segments)
    current = newest(procedure, variant)
    if current is not None and current.content_hash == digest:
        return current
    version = ProcessVersion(
        procedure=procedure,
        variant=variant,
        version=(current.version + 1) if current else 1,
        bpmn_xml=bpmn_xml,
        dmn=dmn,
        segments=segments,
        spec_json=model.spec_json,
        content_hash=digest,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(version)
    db.session.flush()
    return version


def sync_files() -> list[ProcessVersion]:
    """Deploy every shipped procedure whose files changed since they were last deployed: the
    default, and each variant that overrides something of it (as a version of that variant).

    Only a change of the files counts: a version an admin saved in the modeler stays the
    newest until the files themselves change.
    """
    versions = []
    for key in PROCEDURES:
        targets = [DEFAULT_VARIANT] + [v for v in shipped_variants() if overrides(key, v)]
        for variant in targets:
            bpmn, dmn = read_files(key, variant)
            segments = read_segments(key, variant, bpmn)
            shipped = _newest_from_files(key, variant)
            if shipped is not None and shipped.content_hash == content_hash(bpmn, dmn, segments):
                continue
            versions.append(deploy(key, bpmn, dmn, variant=variant, segments=segments))
    return versions


def _newest_from_files(procedure: str, variant: str) -> ProcessVersion | None:
    """The newest version deployed from the shipped files (no user deployed it)."""
    return (
        ProcessVersion.query.filter_by(procedure=procedure, variant=variant, created_by_id=None)
        .order_by(ProcessVersion.version.desc())
        .first()
    )


def newest(procedure: str, variant: str = DEFAULT_VARIANT) -> ProcessVersion | None:
    """The newest version of exactly this variant (None when it has none)."""
    return (
        ProcessVersion.query.filter_by(procedure=procedure, variant=variant)
        .order_by(ProcessVersion.version.desc())
        .first()
    )


def latest(procedure: str, variant: str = DEFAULT_VARIANT) -> ProcessVersion | None:
    """The version new instances of `variant` run: its own newest, else the default's."""
    version = newest(procedure, variant)
    if version is None and variant != DEFAULT_VARIANT:
        version = newest(procedure, DEFAULT_VARIANT)
    return version
