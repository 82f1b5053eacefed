"""The rule list (规则清单), generated from the code and the shipped files, never hand-kept.

Every rule of every RuleSet (handlers.rules.RULESETS: a new RuleSet or rule on any branch
appears with no change here): its name, its Chinese message with the `{f.…}` placeholders
shown readably, the passage it comes from, the procedures that check it, and the variants
that change those procedures — each variant's own decision tables, segments or diagram
for the procedure, as the deploy lays them over the default (`deploy.overrides`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import handlers
from handlers.rules import RULESETS, Rule
from webapp.models.vocabulary import PROCEDURES

from . import deploy, variants

# What a placeholder stands for; one not named here is shown by its own path, 〔…〕.
PLACEHOLDERS = {
    "student.grade": "学生现在的年级",
    "student.status_label": "学籍状态",
    "student.borrow_host.name": "借读学校名称",
    "student.suspended_until": "休学期满日期",
    "grade": "申请的年级",
    "to_grade": "申请编入的年级",
    "to_class_name": "申请编入的班级",
    "cap": "班额上限",
    "host_enrolled": "借读学校在籍人数",
    "host_quota": "借读生限额",
    "host_borrowers": "已有借读生人数",
    "borrow_start": "借读开始日期",
    "resume_date": "申请复学日期",
    "placed_code": "安置学校代码",
    "placing_county.name": "安置的县（区）",
    "basis": "本地区规定的依据",
    "identity_problem": "身份证号与出生日期、性别的不一致之处",
    "id_problem": "身份证号的错误",
    "field_label": "变更的项目",
    "threshold_message": "本地区休学条件的说明（决策表给出）",
    "grade_message": "本地区复学年级的说明（决策表给出）",
    "total_message": "休学总时长的说明",
    "window[reason]": "本地区转学时间的说明（决策表给出）",
    "school.name": "学校名称",
    "entry_year": "入学年份（级）",
}
_PLACEHOLDER = re.compile(r"\{f\.([^{}]+)\}")


def readable(message: str) -> str:
    """The message with each `{f.x}` as 〔what x is〕."""
    return _PLACEHOLDER.sub(lambda m: f"〔{PLACEHOLDERS.get(m.group(1), m.group(1))}〕", message)


@dataclass(frozen=True)
class VariantChange:
    variant: str
    label: str
    procedure: str
    files: tuple[str, ...]


@dataclass
class RuleEntry:
    name: str
    message: str  # readable
    passage: str
    procedures: list[str] = field(default_factory=list)  # keys, in the order met
    variants: list[VariantChange] = field(default_factory=list)

    @property
    def variant_keys(self) -> list[str]:
        return list(dict.fromkeys(v.variant for v in self.variants))


def procedure_name(key: str) -> str:
    proc = PROCEDURES.get(key)
    return f"{proc.name}（{key}）" if proc else key


def _changes(procedure: str) -> list[VariantChange]:
    if procedure not in PROCEDURES:
        return []
    out = []
    for variant in deploy.shipped_variants():
        files = deploy.overrides(procedure, variant)
        if files:
            out.append(VariantChange(variant, variants.label(variant), procedure, tuple(files)))
    return out


def entries() -> list[RuleEntry]:
    """One entry per rule (a rule shared by several procedures once), sorted by name."""
    handlers.load_all()
    by_rule: dict[int, tuple[Rule, RuleEntry]] = {}
    changes: dict[str, list[VariantChange]] = {}
    for ruleset in RULESETS:
        for rule in ruleset.rules:
            if id(rule) not in by_rule:
                entry = RuleEntry(rule.name, readable(rule.message), rule.passage)
                by_rule[id(rule)] = (rule, entry)
            entry = by_rule[id(rule)][1]
            if ruleset.procedure in entry.procedures:
                continue
            entry.procedures.append(ruleset.procedure)
            if ruleset.procedure not in changes:
                changes[ruleset.procedure] = _changes(ruleset.procedure)
            entry.variants.extend(changes[ruleset.procedure])
    return sorted((e for _, e in by_rule.values()), key=lambda e: (e.name, e.procedures))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """rules.md: the list as one Markdown table."""
    lines = [
        "# 规则清单",
        "",
        "由 `xueji rules --markdown rules.md` 从代码和决策表生成，请勿手工编辑。",
        "“改变它的地区变体”列出该规则所在业务中，地区变体替换的决策表、分段或流程图。",
        "",
        "| 规则 | 提示信息 | 出处 | 业务 | 改变它的地区变体 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in entries():
        procs = "、".join(procedure_name(p) for p in e.procedures)
        changed = "；".join(
            f"{v.label}：{procedure_name(v.procedure)} {', '.join(v.files)}" for v in e.variants
        )
        cells = (f"`{e.name}`", e.message, e.passage or "（未注明）", procs, changed or "—")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
