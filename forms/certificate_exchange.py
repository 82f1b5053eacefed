"""结业换发毕业证书: the school's application (000 ⑦ 第二十八条; 002 第三十二条).

The make-up (补考、重修) results are imported first, as every result is (`xueji import
results` or the results page); the application carries the signed score sheet as evidence.
Whether the student now graduates is the automatic check's job, so that a refusal names
its rule.
"""

from marshmallow import Schema, fields, validate

from . import Field, FormSpec, register
from .evidence import NOTE, evidence_field


class CertificateExchangeSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    evidence = evidence_field()


CERTIFICATE_EXCHANGE_APPLY = register(
    FormSpec(
        key="certificate_exchange_apply",
        title="结业换发毕业证书申请",
        schema=CertificateExchangeSchema,
        fields=(
            NOTE,
            Field(
                "evidence",
                "补考、重修成绩单",
                "files",
                required=True,
                help="学校盖章的补考、重修成绩单扫描件（成绩须先导入系统），PDF、JPEG 或 PNG。",
            ),
        ),
    )
)
