"""The rule list (规则清单), generated from the code and the tables: every rule of every
RuleSet with its message, its passage and the variants that change it; admins only."""

import html
import re

import pytest

from handlers.rules import RULESETS, Rule, RuleSet, cited_passage
from workflows import rulebook


def text(resp) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", resp.data.decode()))


def row(page: str, rule: str, procedure: str) -> str:
    found = re.search(rf'<tr id="rule-{rule}-{procedure}" class="rule">(.*?)</tr>', page, re.S)
    assert found, f"{rule} ({procedure}) is not on the page"
    return html.unescape(found.group(1))


def test_the_page_lists_a_rule_with_its_message_passage_and_variant(world, login):
    resp = login("admin").get("/admin/rules")
    assert resp.status_code == 200
    page = resp.data.decode()
    skip = row(page, "skip_grade_allowed", "skip_grade")
    assert "本地区学籍管理规定不允许跳级" in skip
    assert "000 第二十二条" in skip
    assert 'data-variant="shandong"' in skip and "skip_grade_policy.dmn" in skip
    assert 'data-variant="zhushan"' not in skip
    # a placeholder is shown by what it stands for, not as code
    one_up = row(page, "one_grade_up", "skip_grade")
    assert "〔学生现在的年级〕" in one_up and "{f." not in one_up
    # a rule whose message cites its passage, and one no variant changes
    assert "⑦ 第十条，000 第十七条" in row(page, "graduating_year", "transfer")
    assert "—" in row(page, "host_quota", "borrow")
    # linked from the admin menu
    assert 'href="/admin/rules"' in page


@pytest.mark.parametrize("user", ["uP1", "u321202", "u3212"])
def test_only_admins_see_the_rule_list(world, login, user):
    assert login(user).get("/admin/rules").status_code in (403, 404)
    assert 'href="/admin/rules"' not in login(user).get("/").data.decode()


def test_every_rule_of_every_ruleset_is_listed(world, login):
    page = text(login("admin").get("/admin/rules"))
    md = rulebook.markdown()
    listed = {(e.name, p) for e in rulebook.entries() for p in e.procedures}
    for ruleset in RULESETS:
        for rule in ruleset.rules:
            assert (rule.name, ruleset.procedure) in listed
            assert f"`{rule.name}`" in md
            assert rulebook.readable(rule.message) in page


def test_every_rule_names_its_passage():
    """Stated once: cited in the message, or `source=` where the message cites none."""
    missing = [
        f"{rs.module}:{r.name}" for rs in RULESETS for r in rs.rules if not r.passage.strip()
    ]
    assert missing == []


def test_a_new_ruleset_anywhere_is_listed_with_no_change():
    """Another branch's rules appear as they are written: a RuleSet of a handler module."""
    added = RuleSet(procedure="withdrawal")
    added.rule("absent_a_month", "无故连续旷课超过一个月（{f.days} 天）（000 ⑦ 第二十二条）。")(
        lambda f: True
    )
    added.add(Rule("reminded", "已书面通知家长。", lambda f: True, source="000 ⑦ 第二十二条"))
    try:
        entries = {e.name: e for e in rulebook.entries()}
        assert entries["absent_a_month"].passage == "000 ⑦ 第二十二条"
        assert entries["absent_a_month"].message.startswith("无故连续旷课超过一个月（〔days〕 天）")
        assert entries["reminded"].procedures == ["withdrawal"]
        assert "`absent_a_month`" in rulebook.markdown()
    finally:
        RULESETS.remove(added)


def test_a_ruleset_belongs_to_the_procedure_of_its_module():
    by_module = {rs.module: rs.procedure for rs in RULESETS}
    assert by_module["handlers.skip_grade"] == "skip_grade"
    assert by_module["handlers.borrow_return"] == "borrow_return"


def test_the_passage_is_read_from_the_message():
    assert cited_passage("毕业年级不办理（⑦ 第十条，000 第十七条）。") == "⑦ 第十条，000 第十七条"
    assert cited_passage("依据 000 第十八条，休学者不得提前复学。") == "000 第十八条"
    assert cited_passage("见 003 篇10 四 的规定。") == "003 篇10 四"
    assert cited_passage("班级（1）班已满。") == ""
    assert cited_passage("该班已有 002 人。") == ""


def test_a_passage_is_stated_in_one_place():
    """Either the message cites it or `source=` gives it, never both (they would drift)."""
    twice = [
        f"{rs.module}:{r.name}"
        for rs in RULESETS
        for r in rs.rules
        if r.source and cited_passage(r.message)
    ]
    assert twice == []


def test_xueji_rules_writes_rules_md(app, runner, tmp_path):
    target = tmp_path / "rules.md"
    result = runner.invoke(args=["rules", "--markdown", str(target)])
    assert result.exit_code == 0, result.output
    assert "规则清单已写入" in result.output
    md = target.read_text(encoding="utf-8")
    line = next(x for x in md.splitlines() if x.startswith("| `skip_grade_allowed`"))
    assert "000 第二十二条" in line and "山东（shandong）" in line
    shown = runner.invoke(args=["rules"])
    assert shown.exit_code == 0 and "| `active_status` |" in shown.output
