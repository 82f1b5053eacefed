"""Process-model versions: deploy the files in workflows/bpmn/ and pick the newest version.

A regional variant lives in workflows/bpmn/variants/<variant>/ and holds only the files it
overrides: `<procedure>.bpmn` and/or `<procedure>*.dmn` (and its Chinese name, `variant.toml`).
Everything else comes from the default, so a variant that changes one number or switch ships
one decision table. Each variant's files are deployed as versions of that variant; a variant
without a version of a procedure runs the default's (`latest`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from lxml import etree

import forms
import handlers
from webapp.models import ProcessVersion, db
from webapp.models.vocabulary import PROCEDURES

from .specs import InvalidModel, Problem, content_hash, parse, steps_used

BPMN_DIR = Path(__file__).parent / "bpmn"
VARIANTS_DIR = BPMN_DIR / "variants"
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
    """The file names a shipped variant overrides for `procedure` (empty: it runs the default)."""
    if variant == DEFAULT_VARIANT:
        return []
    folder = VARIANTS_DIR / variant
    bpmn = folder / f"{procedure}.bpmn"
    return ([bpmn.name] if bpmn.is_file() else []) + [p.name for p in _dmn_files(folder, procedure)]


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


def check_decisions(procedure: str, bpmn_xml: str, dmn: dict[str, str]) -> None:
    """Refuse a version that lacks a decision table its handlers ask."""
    handlers.load_all()  # the tables are declared where they are asked
    forms.load_all()
    asked = [*handlers.PROCEDURE_TABLES.get(procedure, ())]
    for step in sorted(steps_used(bpmn_xml)):
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
    for path in sorted((VARIANTS_DIR / variant).iterdir()):
        if path.name.startswith((".", "README")):
            continue
        if path.name == "variant.toml":  # its metadata (the Chinese name: workflows/variants.py)
            problems.extend(_metadata_problems(variant, path))
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
        return [Problem(f"variants/{variant}/{path.name}", f"TOML 格式错误：{exc}")]
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
            parse(key, bpmn, dmn)
            check_decisions(key, bpmn, dmn)


def deploy(
    procedure: str, bpmn_xml: str, dmn: dict[str, str], variant: str = DEFAULT_VARIANT, user=None
) -> ProcessVersion:
    """Validate and store a new version unless the newest one has the same content."""
    parsed = parse(procedure, bpmn_xml, dmn)
    check_decisions(procedure, bpmn_xml, dmn)
    digest = content_hash(bpmn_xml, dmn)
    current = newest(procedure, variant)
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
            shipped = _newest_from_files(key, variant)
            if shipped is not None and shipped.content_hash == content_hash(bpmn, dmn):
                continue
            versions.append(deploy(key, bpmn, dmn, variant=variant))
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
