"""What admins do with process models: list them, save a draft as a new version (after
validation and the test bench), and read what changed between two versions.

Saving never touches running instances: they stay on their version until an admin
migrates them (workflows/migration.py).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from lxml import etree

import handlers
from forms import FORMS, load_all
from webapp.models import ProcessVersion, audit
from webapp.models.vocabulary import PROCEDURES

from . import deploy, testbench, variants
from .routing import SLOTS
from .specs import InvalidModel, Problem


class BenchFailed(Exception):
    """The draft is valid but its scenarios do not pass: it is not deployed."""

    def __init__(self, report: testbench.Report):
        super().__init__("测试场景未全部通过")
        self.report = report

    def problems(self) -> list[Problem]:
        return [
            Problem(f"scenario:{r.file}#{r.name}", r.difference or "未通过")
            for r in self.report.results
            if not r.passed
        ]


def catalogue() -> list[dict]:
    """Every procedure × variant that has versions, newest first, with who deployed each."""
    rows = []
    for procedure in PROCEDURES:
        for variant in variants.known():
            versions = (
                ProcessVersion.query.filter_by(procedure=procedure, variant=variant)
                .order_by(ProcessVersion.version.desc())
                .all()
            )
            if versions:
                rows.append({"procedure": procedure, "variant": variant, "versions": versions})
    return rows


def names() -> dict[str, list[str]]:
    """The names a model may use, for the modeler's side panel (only these are offered)."""
    load_all()
    return {
        "slots": sorted(SLOTS),
        "forms": sorted(FORMS),
        "handlers": sorted(handlers.load_all()),
        "notBy": ["initiator"],
    }


def save(
    procedure: str,
    variant: str,
    bpmn_xml: str,
    dmn: dict[str, str],
    user,
    segments: dict[str, str] | None = None,
):
    """Validate, run the test bench, then deploy as the newest version of `variant`.

    `segments` are the draft's segments; those the diagram calls but the draft does not
    carry are the variant's newest version's, else the shipped files'
    (`deploy.segments_for`). Raises InvalidModel (element-level problems) or BenchFailed;
    returns the version and the bench report. An unchanged model returns the current version.
    """
    if procedure not in PROCEDURES:
        raise InvalidModel([Problem(procedure, f"未知的业务类型“{procedure}”")])
    if variant not in variants.known():
        raise InvalidModel([Problem(variant, f"未知的地区变体“{variant}”")])
    segments = deploy.segments_for(procedure, variant, bpmn_xml, segments)
    report = testbench.run(procedure, variant, bpmn_xml, dmn, segments=segments)
    if report.problems:
        raise InvalidModel([Problem(p["element"], p["message"]) for p in report.problems])
    if not report.passed:
        raise BenchFailed(report)
    before = deploy.newest(procedure, variant)
    version = deploy.deploy(procedure, bpmn_xml, dmn, variant=variant, user=user, segments=segments)
    if version is not before:  # an unchanged model deployed nothing: nothing to attribute
        audit(
            user,
            "model.deploy",
            version,
            None,
            {"procedure": procedure, "variant": variant, "version": version.version},
        )
    return version, report


@dataclass
class Change:
    what: str  # 新增 | 删除 | 修改
    element: str
    detail: str


# The diagram's layout (BPMN DI) and the flow references a modeler derives from the sequence
# flows say nothing about the procedure: they are left out of the element diff, and a change
# of layout is reported once.
LAYOUT_NAMESPACES = (
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
)
DERIVED = (
    "{http://www.omg.org/spec/BPMN/20100524/MODEL}incoming",
    "{http://www.omg.org/spec/BPMN/20100524/MODEL}outgoing",
)


def _is_layout(el) -> bool:
    return isinstance(el.tag, str) and etree.QName(el).namespace in LAYOUT_NAMESPACES


def _normalised(el) -> str:
    """The element without its children that have ids, layout, derived references and
    formatting, re-indented: two files that differ only in those compare equal."""
    copy = etree.fromstring(etree.tostring(el))
    for child in list(copy.iter())[1:]:
        parent = child.getparent()
        if parent is None:
            continue
        if child.get("id") is not None or _is_layout(child) or child.tag in DERIVED:
            parent.remove(child)
    for node in copy.iter():
        if node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    etree.cleanup_namespaces(copy)
    etree.indent(copy)
    return etree.tostring(copy, encoding="unicode").strip()


def _elements(xml: str) -> dict[str, str]:
    """Each element with an id, as its normalised XML (child elements with ids left out)."""
    root = etree.fromstring(xml.encode())
    out = {}
    for el in root.iter():
        ident = el.get("id") if isinstance(el.tag, str) else None
        if ident is None or _is_layout(el):
            continue
        out[ident] = _normalised(el)
    return out


def _layout(xml: str) -> dict[str, str]:
    """The diagram's layout: each shape and edge by id."""
    root = etree.fromstring(xml.encode())
    return {
        el.get("id"): etree.tostring(el, encoding="unicode").strip()
        for el in root.iter()
        if _is_layout(el) and el.get("id") is not None
    }


def _name(xml: str) -> str:
    el = etree.fromstring(xml.encode())
    label = el.get("name") or el.get("label") or ""
    return f"{etree.QName(el).localname} {label}".strip()


def changes(old: ProcessVersion, new: ProcessVersion) -> list[Change]:
    """A readable list of what changed: elements added, removed or edited, by id, across the
    BPMN, every decision table and every segment."""
    found: list[Change] = []
    pairs = [("", old.bpmn_xml, new.bpmn_xml)] + [
        (f"{name}：", (old.dmn or {}).get(name, ""), (new.dmn or {}).get(name, ""))
        for name in sorted(set(old.dmn or {}) | set(new.dmn or {}))
    ]
    old_segments, new_segments = old.segments or {}, new.segments or {}
    pairs += [
        (f"子流程 {name}：", old_segments.get(name, ""), new_segments.get(name, ""))
        for name in sorted(set(old_segments) | set(new_segments))
    ]
    for prefix, a, b in pairs:
        before = _elements(a) if a else {}
        after = _elements(b) if b else {}
        for ident in after.keys() - before.keys():
            found.append(Change("新增", prefix + ident, _name(after[ident])))
        for ident in before.keys() - after.keys():
            found.append(Change("删除", prefix + ident, _name(before[ident])))
        for ident in sorted(before.keys() & after.keys()):
            if before[ident] != after[ident]:
                lines = difflib.unified_diff(
                    before[ident].splitlines(), after[ident].splitlines(), lineterm="", n=0
                )
                detail = "\n".join(
                    line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")
                )
                found.append(Change("修改", prefix + ident, detail))
    found.extend(_layout_change(old.bpmn_xml, new.bpmn_xml))
    return sorted(found, key=lambda c: (c.element, c.what))


def _layout_change(old: str, new: str) -> list[Change]:
    before, after = _layout(old), _layout(new)
    if before == after:
        return []
    if not before:
        return [Change("新增", "布局", f"流程图布局（{len(after)} 个图形和连线）")]
    if not after:
        return [Change("删除", "布局", "流程图布局（改由浏览器自动排版）")]
    moved = sum(before.get(k) != after.get(k) for k in before.keys() | after.keys())
    return [Change("修改", "布局", f"流程图布局：{moved} 个图形或连线的位置有变化")]
