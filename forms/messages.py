"""marshmallow's own messages in Chinese: a field whose schema names no message of its own
("Not a valid integer.", "Field may not be null.") would otherwise show the parser's
English on the page and in the API. Set once, when the forms are imported; the page shows
each beside its field's label, the API under the field's key.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

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
# The validators' own messages, for a validator made without `error=` (`{min}` and the like
# are filled in by marshmallow; a OneOf's choices are keys, so they are not shown).
VALIDATORS = {
    validate.Length: {
        "message_min": "不能少于 {min} 个字符。",
        "message_max": "不能超过 {max} 个字符。",
        "message_all": "长度应在 {min} 到 {max} 个字符之间。",
        "message_equal": "长度应为 {equal} 个字符。",
    },
    validate.Range: {
        "message_min": "应{min_op} {{min}}。",
        "message_max": "应{max_op} {{max}}。",
        "message_all": "应{min_op} {{min}}，且{max_op} {{max}}。",
        "message_gte": "不小于",
        "message_gt": "大于",
        "message_lte": "不大于",
        "message_lt": "小于",
    },
    validate.OneOf: {"default_message": "不在可选范围内。"},
    validate.ContainsOnly: {"default_message": "所选的项目不在可选范围内。"},
    validate.ContainsNoneOf: {"default_message": "所选的项目中有不允许的选项。"},
    validate.Equal: {"default_message": "应等于 {other}。"},
    validate.Regexp: {"default_message": "格式不正确。"},
    validate.Predicate: {"default_message": "取值无效。"},
    validate.NoneOf: {"default_message": "取值无效。"},
    validate.URL: {"default_message": "网址无效。"},
    validate.Email: {"default_message": "电子邮箱地址无效。"},
}


def use_chinese() -> None:
    """marshmallow reads these class dicts whenever a field is made: update them in place."""
    for cls, messages in CHINESE.items():
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}), **messages}
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA}
    for validator, texts in VALIDATORS.items():
        for name, text in texts.items():
            setattr(validator, name, text)
