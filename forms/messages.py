"""marshmallow's own messages in Chinese: a field whose schema names no message of its own
("Not a valid integer.", "Field may not be null.") would otherwise show the parser's
English on the page and in the API. Set once, when the forms are imported; the page shows
each beside its field's label, the API under the field's key.
"""

from __future__ import annotations

from marshmallow import Schema, fields

CHINESE = {
    fields.Field: {
        "required": "此项必须填写。",
        "null": "此项不能为空。",
        "validator_failed": "取值无效。",
    },
    fields.String: {"invalid": "应填写文字。", "invalid_utf8": "文字编码无效。"},
    fields.Integer: {"invalid": "应填写整数。"},
    fields.Number: {"invalid": "应填写数字。", "too_large": "数字过大。"},
    fields.Float: {"special": "应填写有效的数字。"},
    fields.Decimal: {"special": "应填写有效的数字。"},
    fields.Boolean: {"invalid": "应选择“是”或“否”。"},
    fields.List: {"invalid": "应为列表。"},
    fields.Mapping: {"invalid": "应为 JSON 对象。"},
    fields.Date: {"invalid": "日期格式应为 YYYY-MM-DD。", "format": "日期无法显示。"},
    fields.DateTime: {"invalid": "时间格式应为 ISO 8601。"},
    fields.Nested: {"type": "格式不正确。"},
    fields.Email: {"invalid": "电子邮箱地址无效。"},
    fields.Url: {"invalid": "网址无效。"},
    fields.Tuple: {"invalid": "应为列表。"},
}
SCHEMA = {"type": "提交的数据格式不正确。", "unknown": "不是本表单的字段。"}


def use_chinese() -> None:
    """marshmallow reads these class dicts whenever a field is made: update them in place."""
    for cls, messages in CHINESE.items():
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}), **messages}
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA}
