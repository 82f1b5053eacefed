"""A parser's complaint in the registrar's words: where (第 N 行第 M 列) and what, in Chinese.

lxml, expat, json, tomllib, PyYAML, csv and the text codecs say what went wrong in English;
this is the one place that turns it into Chinese. Their frequent messages are in the table
below; one that is not becomes 格式错误 at its place, never the English. In forms/, the
lowest layer, so the engine, the imports and the web side all use it.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
import zipfile
from xml.parsers import expat

import yaml
from lxml import etree

UNKNOWN = "格式错误"

_EL = r"Element '(?:\{[^}]*\})?([^']+)'"
# (English message, as a pattern anchored at its start; Chinese, with {1}… for its groups).
# The groups carry only what the user wrote (a tag name, a character, a number).
_TABLE: tuple[tuple[str, str], ...] = (
    # lxml (libxml2)
    (
        r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)",
        "开始标签 <{1}>（第 {2} 行）与结束标签 </{3}> 不匹配",
    ),
    (
        r"Premature end of data in tag (\S+) line (\d+)",
        "标签 <{1}>（第 {2} 行）没有结束，内容就已结束",
    ),
    (r"Premature end of data", "内容没有结束就已结束"),
    (r"Extra content at the end of the document", "文档结束之后还有多余的内容"),
    (r"AttValue: \" or ' expected", "属性值应写在引号中"),
    (r"Document is empty", "内容为空"),
    (r"Start tag expected, '<' not found", "应以开始标签“<”开头"),
    (r"Entity '([^']+)' not defined", "实体“&{1};”没有定义"),
    (r"xmlParseEntityRef: no name", "“&”之后缺少实体名（文字中的 & 应写作 &amp;）"),
    (r"StartTag: invalid element name", "标签名无效"),
    (r"Couldn't find end of Start Tag (\S+)", "开始标签 <{1}> 缺少结尾的“>”"),
    (r"EndTag: '</' not found", "缺少结束标签"),
    (r"attributes construct error", "属性的写法不正确"),
    (r"Attribute (\S+) redefined", "属性 {1} 重复"),
    (r"Specification mandates value for attribute (\S+)", "属性 {1} 缺少取值"),
    (r"Namespace prefix (\S+) (?:on|for) (\S+) is not defined", "命名空间前缀 {1} 没有定义"),
    (r"Comment not terminated", "注释没有结束"),
    (r"(?:PCDATA invalid Char value|Char 0x\w+ out of allowed range)", "含有不允许的字符"),
    (r"Input is not proper UTF-8", "文字编码无效"),
    (r"Invalid bytes in character encoding", "文字编码无效"),
    # expat
    (r"mismatched tag", "开始标签与结束标签不匹配"),
    (r"no element found", "内容不完整：缺少元素或结束标签"),
    (r"junk after document element", "文档结束之后还有多余的内容"),
    (r"not well-formed \(invalid token\)", "格式不正确：此处的字符无效"),
    (r"unclosed token", "有没有结束的标记"),
    (r"undefined entity", "实体没有定义"),
    (r"duplicate attribute", "属性重复"),
    (r"unbound prefix", "命名空间前缀没有定义"),
    (r"reference to invalid character number", "引用了无效的字符编号"),
    (r"syntax error", "语法错误"),
    # json
    (r"Expecting value", "此处应有一个值"),
    (r"Expecting ',' delimiter", "缺少逗号“,”"),
    (r"Expecting ':' delimiter", "缺少冒号“:”"),
    (r"Expecting property name enclosed in double quotes", "此处应有写在双引号中的键名"),
    (r"Unterminated string", "字符串缺少结尾的引号"),
    (r"Extra data", "结束之后还有多余的内容"),
    (r"Invalid control character", "字符串中有不允许的控制字符"),
    (r"Invalid \\(?:u\w{4} )?escape", "反斜杠转义无效"),
    (r"Illegal trailing comma", "结尾多了一个逗号"),
    # tomllib
    (r"Invalid value", "取值无效"),
    (r"Expected '=' after a key", "键名之后应有“=”"),
    (r"Expected '\]' at the end of a table declaration", "表名缺少结尾的“]”"),
    (r"Expected '\]\]' at the end of an array declaration", "表数组名缺少结尾的“]]”"),
    (r"Cannot overwrite a value", "同一个键写了两次"),
    (r"Cannot declare .* twice", "同一个表声明了两次"),
    (r"Invalid statement", "无法识别的语句"),
    (r"Expected newline or end of document", "一条语句之后应换行"),
    (r"Invalid initial character for a key part", "键名的第一个字符无效"),
    (r"Illegal character", "含有不允许的字符"),
    (r"Invalid date or datetime", "日期或时间无效"),
    (r"Unclosed array", "数组缺少结尾的“]”"),
    (r"Unclosed inline table", "内联表缺少结尾的“}”"),
    # PyYAML
    (
        r"mapping values are not allowed here",
        "此处不能写“键: 值”（冒号后的值应换行缩进，或把含冒号的文字加引号）",
    ),
    (r"found character '\\t' that cannot start any token", "缩进中不能用制表符"),
    (
        r"found character '(.)' that cannot start any token",
        "字符“{1}”不能写在开头（请把这段文字加引号）",
    ),
    (r"expected ',' or '\]'", "列表缺少“,”或结尾的“]”"),
    (r"expected ',' or '\}'", "映射缺少“,”或结尾的“}”"),
    (r"sequence entries are not allowed here", "此处不能写列表项“- ”"),
    (r"found unexpected end of stream", "内容意外结束（引号没有配对？）"),
    (r"expected <block end>", "缩进不一致"),
    (r"could not find expected ':'", "缺少冒号“:”"),
    (r"expected a comment or a line break", "此处应换行"),
    (r"found undefined alias", "引用了没有定义的锚点"),
    (r"found unknown escape character", "转义字符无效"),
    (r"special characters are not allowed", "含有不允许的特殊字符"),
    # csv
    (r"field larger than field limit \((\d+)\)", "单元格超过 {1} 个字符"),
    (r"unexpected end of data", "内容意外结束（引号没有配对？）"),
    (r"new-line character seen in unquoted field", "没有加引号的单元格中有换行"),
    (r"line contains NUL", "含有空字符"),
    (r"'.' expected after '\"'", "引号之后应是分隔符"),
    # XML Schema (the BPMN validator), element names without their namespace
    (_EL + r": This element is not expected", "此处不能有元素 <{1}>"),
    (
        _EL + r", attribute '([^']+)': The attribute '[^']+' is not allowed",
        "元素 <{1}> 不能有属性 {2}",
    ),
    (_EL + r": The attribute '([^']+)' is required but missing", "元素 <{1}> 缺少属性 {2}"),
    (
        _EL + r", attribute '([^']+)': '([^']*)' is not a valid value",
        "元素 <{1}> 的属性 {2} 的值“{3}”无效",
    ),
    (_EL + r": '([^']*)' is not a valid value", "元素 <{1}> 的值“{2}”无效"),
    (_EL + r": Missing child element", "元素 <{1}> 缺少必需的子元素"),
    (_EL + r": Character content other than whitespace is not allowed", "元素 <{1}> 中不能有文字"),
    (_EL + r": Duplicate key-sequence \['([^']*)'\]", "id“{2}”重复"),
    (_EL + r": No match found for key-sequence \['([^']*)'\]", "引用的“{2}”不存在"),
    # SpiffWorkflow's BPMN and DMN parsers
    (r'No DMN Diagram available with id "([^"]*)"', "没有 id 为“{1}”的决策表"),
    (r"Malformed Output Expression '(.*)'\. ", "决策表的输出表达式“{1}”写法有误"),
    (r"No decisions found", "决策表文件中没有决策"),
    (r"Multiple decision tables", "一个决策表文件只能有一张表"),
    (r"Unknown type in decision table", "决策表中有无法识别的元素"),
    (r"Duplicate process ID: (\S+)", "流程 id“{1}”重复"),
    (r"The process '([^']*)' was not found", "找不到流程“{1}”"),
    (r"No start event found", "没有开始事件"),
    (r"Process (\S+) is not executable", "流程 {1} 没有设为可执行"),
    (r"Invalid Script Task\.\s+No Script Provided", "脚本任务缺少脚本"),
    (r"Cannot resolve data(Input|Output)Association (\S+)", "找不到数据关联 {2}"),
    (r"Unknown Time Specification", "定时器的时间写法无法识别"),
    (r"Time Specification Error", "定时器的时间写法有误"),
    (r"Conditional event definition with missing condition", "条件事件缺少条件"),
    (
        r"Non-default exclusive outgoing sequence flow without condition",
        "排他网关的非默认出口缺少条件",
    ),
    (r"Exactly one start event is required in a SubWorkflow", "子流程必须恰有一个开始事件"),
    (r"A SubWorkflow Must contain an End event", "子流程必须有结束事件"),
    (r'No "calledElement" attribute for Call Activity', "调用活动缺少所调用的子流程"),
    (r"A Service Task must have an operator", "服务任务缺少所调用的处理程序"),
    (r"There is no support implemented for this task type", "不支持此类任务"),
    # zip (an .xlsx is one)
    (r"File is not a zip file", "不是有效的压缩包"),
    (r"Bad magic number", "不是有效的压缩包"),
)
_GROUP = re.compile(r"\{(\d)\}")
_PATTERNS = tuple((re.compile(english), chinese) for english, chinese in _TABLE)
# What lxml and tomllib append to their message: the place, which we give ourselves.
_LXML_PLACE = re.compile(r",\s*line \d+, column \d+$")
_TOML_PLACE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def chinese(english: str) -> str:
    """A parser's message (without its place) in Chinese; 格式错误 when it is not known."""
    for pattern, text in _PATTERNS:
        found = pattern.match(english.strip())
        if found:
            return _GROUP.sub(lambda m, found=found: found.group(int(m.group(1))), text)
    return UNKNOWN


def located(exc: BaseException, line: int | None = None, column: int | str | None = None) -> str:
    """ "第 N 行第 M 列：…" for a parse error. `line` and `column` are for a parser that
    does not know its place (csv: the reader's line; a sheet: the column's header)."""
    (found_line, found_column), what = _place_and_message(exc)
    return at(what, found_line or line, found_column or column)


def at(english: str, line: int | None = None, column: int | str | None = None) -> str:
    """The same for a message whose place the parser keeps apart (SpiffWorkflow's)."""
    return f"{place(line, column)}{chinese(english)}"


def place(line: int | None, column: int | str | None = None) -> str:
    """ "第 N 行第 M 列：", "第 N 行“姓名”列：" or "第 N 行："; "" where nothing is known."""
    if line is None:
        return "结尾处：" if column == "end" else ""
    if isinstance(column, int):
        return f"第 {line} 行第 {column} 列："
    if column and column != "end":
        return f"第 {line} 行“{column}”列："
    return f"第 {line} 行："


def _place_and_message(exc: BaseException) -> tuple[tuple[int | None, int | str | None], str]:
    """((line, column from 1), the English message) as the exception's type keeps them."""
    if isinstance(exc, etree.XMLSyntaxError):
        line, column = exc.position if exc.position else (exc.lineno, None)
        return (line, column), _LXML_PLACE.sub("", exc.msg or "")
    if isinstance(exc, expat.ExpatError):
        return (exc.lineno, exc.offset + 1), expat.ErrorString(exc.code) or ""
    if isinstance(exc, json.JSONDecodeError):
        return (exc.lineno, exc.colno), exc.msg
    if isinstance(exc, tomllib.TOMLDecodeError):
        text = str(exc)
        match = _TOML_PLACE.search(text)
        if match is None:
            return (None, None), text
        if match.group(1) is None:
            return (None, "end"), text[: match.start()]
        return (int(match.group(1)), int(match.group(2))), text[: match.start()]
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark
        where = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        return where, exc.problem or ""
    if isinstance(exc, yaml.reader.ReaderError):
        return (None, None), exc.reason
    if isinstance(exc, UnicodeDecodeError):
        return _byte_place(exc.object, exc.start), "Input is not proper UTF-8"
    if isinstance(exc, csv.Error | zipfile.BadZipFile):
        return (None, None), str(exc)
    return (None, None), ""


def _byte_place(data: bytes, offset: int) -> tuple[int, int]:
    """Line and column (from 1, counted in characters before it) of a byte offset."""
    before = bytes(data[:offset])
    start = before.rfind(b"\n") + 1
    return before.count(b"\n") + 1, len(before[start:].decode("utf-8", "replace")) + 1
