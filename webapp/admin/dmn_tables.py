"""Decision tables as the modeler page edits them: read a version's DMN files into rows of
cells, and write edited cells back into the XML by element id (everything else of the file,
comments and layout included, stays as it was)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

ENTRY_TAGS = ("inputEntry", "outputEntry")


class DraftError(Exception):
    """Edited cells that do not fit the tables; the message is Chinese."""


@dataclass
class Column:
    id: str
    label: str
    detail: str  # an input's expression, an output's name


@dataclass
class Cell:
    id: str
    text: str


@dataclass
class Rule:
    id: str
    description: str
    inputs: list[Cell] = field(default_factory=list)
    outputs: list[Cell] = field(default_factory=list)


@dataclass
class Table:
    file: str
    decision_id: str
    name: str
    hit_policy: str
    inputs: list[Column] = field(default_factory=list)
    outputs: list[Column] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el, name: str) -> list:
    return [child for child in el if _local(child) == name]


def _text(el) -> str:
    if el is None:
        return ""
    found = _children(el, "text")
    return (found[0].text or "") if found else (el.text or "")


def tables(dmn: dict[str, str]) -> list[Table]:
    """Every decision table of the files, in file order."""
    out = []
    for name in sorted(dmn):
        root = etree.fromstring(dmn[name].encode())
        for decision in root.iter("{*}decision"):
            for table in _children(decision, "decisionTable"):
                t = Table(
                    file=name,
                    decision_id=decision.get("id", ""),
                    name=decision.get("name", ""),
                    hit_policy=table.get("hitPolicy", "UNIQUE"),
                )
                for column in _children(table, "input"):
                    expression = _children(column, "inputExpression")
                    t.inputs.append(
                        Column(
                            column.get("id", ""),
                            column.get("label", ""),
                            _text(expression[0] if expression else None),
                        )
                    )
                for column in _children(table, "output"):
                    t.outputs.append(
                        Column(
                            column.get("id", ""), column.get("label", ""), column.get("name", "")
                        )
                    )
                for rule in _children(table, "rule"):
                    description = _children(rule, "description")
                    t.rules.append(
                        Rule(
                            id=rule.get("id", ""),
                            description=(description[0].text or "") if description else "",
                            inputs=[
                                Cell(e.get("id", ""), _text(e))
                                for e in _children(rule, "inputEntry")
                            ],
                            outputs=[
                                Cell(e.get("id", ""), _text(e))
                                for e in _children(rule, "outputEntry")
                            ],
                        )
                    )
                out.append(t)
    return out


def apply(dmn: dict[str, str], cells: dict[str, dict[str, str]]) -> dict[str, str]:
    """`dmn` with the edited cells written in: `{file: {element id: text}}`, where the id is
    an input or output entry's (its text) or a rule's (its description). A file whose cells
    all equal what it holds comes back unchanged, byte for byte."""
    if not isinstance(cells, dict):
        raise DraftError("决策表的修改格式不对。")
    out = dict(dmn)
    for name, edits in cells.items():
        if name not in dmn:
            raise DraftError(f"没有决策表文件“{name}”。")
        if not isinstance(edits, dict):
            raise DraftError(f"{name}：修改格式不对。")
        root = etree.fromstring(dmn[name].encode())
        by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
        changed = False
        for ident, value in edits.items():
            el = by_id.get(ident)
            if el is None or _local(el) not in (*ENTRY_TAGS, "rule"):
                raise DraftError(f"{name}：没有可编辑的单元格“{ident}”。")
            if not isinstance(value, str):
                raise DraftError(f"{name}：单元格“{ident}”的内容必须是文本。")
            value = value.strip()
            if _local(el) == "rule":
                changed |= _set_child_text(el, "description", value, first=True)
            else:
                if not value:
                    raise DraftError(f"{name}：单元格“{ident}”不能为空（不限请写 -）。")
                changed |= _set_child_text(el, "text", value)
        if changed:
            out[name] = _serialise(dmn[name], root)
    return out


PROLOGUE = re.compile(r"\A(?:\s*(?:<\?.*?\?>|<!--.*?-->))*\s*", re.DOTALL)


def _serialise(original: str, root) -> str:
    """The edited root between the original's prologue (declaration, comments) and its
    trailing whitespace."""
    prologue = PROLOGUE.match(original).group(0)
    trailing = original[len(original.rstrip()) :]
    return prologue + etree.tostring(root, encoding="unicode") + trailing


def _set_child_text(el, name: str, value: str, first: bool = False) -> bool:
    found = _children(el, name)
    if found:
        if (found[0].text or "") == value:
            return False
        found[0].text = value
        return True
    if not value:
        return False
    ns = etree.QName(el).namespace
    child = etree.Element(f"{{{ns}}}{name}" if ns else name)
    child.text = value
    if first:
        el.insert(0, child)
    else:
        el.append(child)
    return True
