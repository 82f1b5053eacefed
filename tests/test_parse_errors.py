"""A parser's complaint reaches the user as "第 N 行第 M 列：…" in Chinese (issue 16 point 8):
XML (lxml, expat), JSON, TOML, YAML, CSV and a text's encoding, each at the right place and
with none of the parser's English; a good input of each is accepted beside it."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
import zipfile
from xml.parsers import expat

import pytest
import yaml
from lxml import etree

from forms.parse_errors import UNKNOWN, located
from forms.spreadsheets import UnreadableFile, open_sheet
from workflows import deploy
from workflows.testbench import scenarios
from workflows.testbench.scenarios import ScenarioError

from .test_xlsx_rows import book_bytes

SKIP, SKIP_DMN = deploy.read_files("skip_grade")
ENGLISH = re.compile(r"[A-Za-z]{3,}")


def english_in(message: str, *typed: str) -> list[str]:
    """The ASCII words of `message` other than the names the user typed."""
    for name in typed:
        message = message.replace(name, "")
    return ENGLISH.findall(message)


def error_of(parse, text):
    try:
        parse(text)
    except Exception as exc:  # each parser's own error type
        return exc
    raise AssertionError(f"accepted: {text!r}")


@pytest.mark.parametrize(
    "parse,bad,good,place,typed",
    [
        (etree.fromstring, b"<a>\n  <b></a>", b"<a><b/></a>", "第 2 行第 10 列", ("<b>", "</a>")),
        (
            lambda t: expat.ParserCreate().Parse(t, True),
            b"<a>\n <b></a>",
            b"<a/>",
            "第 2 行第 7 列",
            (),
        ),
        (json.loads, '{"a": 1,\n  "b" 2}', '{"a": 1}', "第 2 行第 7 列", ()),
        (tomllib.loads, 'name = "x"\nregion 山东', 'name = "x"', "第 2 行第 8 列", ()),
        (yaml.safe_load, "a: 1\nb: c: d", "a: 1", "第 2 行第 5 列", ()),
        (yaml.safe_load, "a: 1\nb: @x", "b: '@x'", "第 2 行第 4 列", ("@",)),
        (
            lambda b: b.decode("utf-8"),
            "甲\n乙丙".encode() + b"\xff",
            "甲".encode(),
            "第 2 行第 3 列",
            (),
        ),
    ],
)
def test_each_parser_names_the_line_and_column_in_chinese(parse, bad, good, place, typed):
    message = located(error_of(parse, bad))
    assert message.startswith(place + "："), message
    assert UNKNOWN not in message and not english_in(message, *typed), message
    parse(good)  # the control: a good input of the same parser is accepted


def test_an_unknown_complaint_is_format_error_at_its_place_never_english():
    exc = json.JSONDecodeError("Some message nobody has seen", "x\ny", 2)
    assert located(exc) == "第 2 行第 1 列：格式错误"
    assert located(ValueError("anything at all")) == "格式错误"


def test_a_csv_error_takes_the_row_it_was_read_at():
    reader = csv.reader(io.StringIO('a,"b\nc'), strict=True)
    exc = error_of(list, reader)
    assert located(exc, line=reader.line_num) == "第 2 行：内容意外结束（引号没有配对？）"


# -- through the places that read files ------------------------------------------------------


def test_a_broken_variant_metadata_file_is_named_with_its_place(tmp_path):
    bad = tmp_path / "variant.toml"
    bad.write_text('name = "山东"\nregion 山东\n', encoding="utf-8")
    (problem,) = deploy._metadata_problems("shandong", bad)
    assert problem.message == "TOML 格式错误，第 2 行第 8 列：键名之后应有“=”"
    bad.write_text('name = "山东"\n', encoding="utf-8")
    assert deploy._metadata_problems("shandong", bad) == []


def test_a_broken_scenario_file_is_named_with_its_place(tmp_path):
    folder = tmp_path / "suspension"
    folder.mkdir()
    path = folder / "bad.yaml"
    path.write_text("scenarios:\n  - name: 病休\n    data: x: 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as refused:
        scenarios._read(path)
    message = str(refused.value)
    assert "YAML 格式错误，第 3 行第 12 列：此处不能写“键: 值”" in message, message
    assert not english_in(message, "suspension/bad.yaml", "YAML"), message
    path.write_text("scenarios: []\n", encoding="utf-8")
    assert scenarios._read(path) == []


def test_a_damaged_workbook_says_where_inside_it_broke():
    damaged = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(book_bytes(False))) as src,
        zipfile.ZipFile(damaged, "w") as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) - 40]
            dst.writestr(item, data)
    sheet = open_sheet(damaged.getvalue(), "截断.xlsx")
    with pytest.raises(UnreadableFile) as refused:
        list(sheet.rows)
    message = str(refused.value)
    assert re.search(r"工作簿内部数据第 \d+ 行第 \d+ 列：", message), message
    assert not english_in(message, "XLSX", "Excel"), message
    assert len(list(open_sheet(book_bytes(False), "名单.xlsx").rows)) == 2  # the control


def test_a_csv_in_no_known_encoding_names_the_first_bad_place():
    data = "姓名,年级\n张三,4\n".encode() + b"\x80\x80,\xff\n"
    with pytest.raises(UnreadableFile) as refused:
        open_sheet(data, "名单.csv")
    assert "第 3 行第 1 列：文字编码无效" in str(refused.value), str(refused.value)
    good = open_sheet("姓名,年级\n张三,4\n".encode(), "名单.csv")
    assert [values for _, values in good.rows] == [{"姓名": "张三", "年级": "4"}]


def test_the_api_names_the_place_in_a_broken_json_body(world, api):
    school = api("uP1")
    resp = school.post(
        "/api/v1/instances",
        data='{"procedure": "transfer",',
        content_type="application/json",
    )
    assert resp.status_code == 400
    message = resp.get_json()["error"]["message"]
    assert message == "请求体无法解析，第 1 行第 26 列：此处应有写在双引号中的键名。", message
    # the control: the same request as JSON the API can read is answered past the parsing
    resp = school.post("/api/v1/instances", json={"procedure": "transfer"})
    assert resp.status_code == 422, resp.get_json()


def test_a_model_with_broken_xml_is_refused_at_its_place_through_the_api(world, api):
    broken = SKIP.replace("</bpmn:process>", "</bpmn:proces>", 1)
    admin = api("admin")
    resp = admin.post("/api/v1/models/skip_grade/versions", json={"bpmn_xml": broken})
    assert resp.status_code == 422
    (field,) = resp.get_json()["error"]["fields"]
    line = SKIP[: SKIP.index("</bpmn:process>")].count("\n") + 1
    assert field["element"] == "definitions"
    assert field["message"].startswith(f"XML 格式错误，第 {line} 行第 "), field
    assert "开始标签 <process>" in field["message"], field
    edited = SKIP.replace('name="学校审核', 'name="学校审核（教导处）', 1)
    resp = admin.post(
        "/api/v1/models/skip_grade/versions", json={"bpmn_xml": edited, "dmn": SKIP_DMN}
    )
    assert resp.status_code == 201, resp.get_json()


def test_a_model_the_schema_refuses_names_its_line_in_chinese(world, api):
    broken = SKIP.replace("<bpmn:process ", '<bpmn:process bogus="1" ', 1)
    resp = api("admin").post(
        "/api/v1/models/skip_grade/versions", json={"bpmn_xml": broken, "dmn": SKIP_DMN}
    )
    assert resp.status_code == 422
    messages = [f["message"] for f in resp.get_json()["error"]["fields"]]
    line = SKIP[: SKIP.index("<bpmn:process ")].count("\n") + 1
    assert f"BPMN 解析失败，第 {line} 行：元素 <process> 不能有属性 bogus" in messages, messages


def test_the_modeler_names_the_place_in_broken_xml_and_a_broken_body(world, login):
    client = login("admin")
    base = deploy.latest("skip_grade")
    url = "/admin/models/skip_grade/default/save"
    broken = SKIP.replace("</bpmn:process>", "</bpmn:proces>", 1)
    resp = client.post(url, json={"base_version": base.id, "bpmn_xml": broken})
    assert resp.status_code == 422
    (problem,) = resp.get_json()["problems"]
    assert re.fullmatch(
        r"XML 格式错误，第 \d+ 行第 \d+ 列：开始标签 <process>（第 \d+ 行）"
        r"与结束标签 </proces> 不匹配",
        problem["message"],
    ), problem
    resp = client.post(url, data='{"base_version": 1,,}', content_type="application/json")
    assert resp.status_code == 400
    assert (
        resp.get_json()["error"] == "请求体无法解析，第 1 行第 20 列：此处应有写在双引号中的键名。"
    )
    # the control: the unbroken draft passes the parsing (and is refused only as unchanged)
    resp = client.post(url, json={"base_version": base.id, "bpmn_xml": base.bpmn_xml})
    assert resp.status_code == 422 and "无需保存" in resp.get_json()["error"]


def test_a_broken_import_file_is_reported_at_its_place(world, api):
    school = api("uP1")
    data = "id_number,name\n110101,张三\n".encode() + b"\xff\xfe\x80,x\n"
    resp = school.post(
        "/api/v1/imports", data={"kind": "students", "file": (io.BytesIO(data), "名单.csv")}
    )
    assert resp.status_code == 201, resp.get_json()
    messages = [p["message"] for p in resp.get_json()["problems"]]
    assert any("第 3 行第 1 列：文字编码无效" in m for m in messages), messages
    good = "id_number,name\n110101,张三\n".encode()
    resp = school.post(
        "/api/v1/imports", data={"kind": "students", "file": (io.BytesIO(good), "名单.csv")}
    )
    messages = [p["message"] for p in resp.get_json()["problems"]]
    assert messages and not any("编码" in m for m in messages), messages  # read; rows checked
