"""The words of the records: levels, stages, roles, statuses and their Chinese labels, and
the procedures this platform runs (key, Chinese name, who starts them, with which form)."""

from dataclasses import dataclass

LEVELS = ("province", "city", "county", "school")
STAGES = ("primary", "junior", "senior", "vocational")
STAGE_LABELS = {"primary": "小学", "junior": "初中", "senior": "高中", "vocational": "中职"}
# The grades of each stage (grade counted from primary year 1).
STAGE_GRADES = {
    "primary": range(1, 7),
    "junior": range(7, 10),
    "senior": range(10, 13),
    "vocational": range(10, 13),
}
ROLES = ("school", "county", "city", "province", "admin")
STATUSES = ("enrolled", "suspended", "graduated", "completed", "left", "withdrawn", "cancelled")
ACTIVE_STATUSES = ("enrolled", "suspended")
STATUS_LABELS = {
    "enrolled": "在籍",
    "suspended": "休学",
    "graduated": "毕业",
    "completed": "结业/修业",
    "left": "肄业",
    "withdrawn": "退学",
    "cancelled": "注销",
}
ROLE_LABELS = {
    "school": "学校学籍管理员",
    "county": "县（区）教育局",
    "city": "市教育局",
    "province": "省教育厅",
    "admin": "平台管理员",
}
LEVEL_LABELS = {"province": "省", "city": "市", "county": "县（区）", "school": "学校"}


RESULT_KINDS = (
    "core",
    "other",
    "conduct",
    "pe",
    "required",
    "elective2",
    "elective",
    "internship",
    "certificate",
)


CLASSIFICATIONS = ("graduated", "completed", "left")


@dataclass(frozen=True)
class Procedure:
    key: str
    name: str
    start_form: str
    starter_role: str
    two_sided: bool = False
    cohort: bool = False  # acts on a whole cohort of a school, not on one student


PROCEDURES: dict[str, Procedure] = {
    p.key: p
    for p in (
        Procedure("transfer", "转学", "transfer_apply", "school", two_sided=True),
        Procedure("graduation", "毕业验印", "graduation_apply", "school", cohort=True),
        Procedure("suspension", "休学", "suspension_apply", "school"),
        Procedure("resumption", "复学", "resumption_apply", "school"),
        Procedure("borrow", "借读", "borrow_apply", "school", two_sided=True),
        Procedure("borrow_return", "借读结束", "borrow_return_apply", "school"),
        Procedure("withdrawal", "退学", "withdrawal_apply", "school"),
        Procedure("cancellation", "注销", "cancellation_apply", "school"),
        Procedure("skip_grade", "跳级", "skip_grade_apply", "school"),
        Procedure("repeat_grade", "留级", "repeat_grade_apply", "school"),
        Procedure(
            "certificate_exchange", "结业换发毕业证书", "certificate_exchange_apply", "school"
        ),
        Procedure("info_change", "学籍信息变更", "info_change_apply", "school"),
        Procedure("registration", "新生注册", "registration_apply", "school", cohort=True),
    )
}


def procedure_name(key: str) -> str:
    proc = PROCEDURES.get(key)
    return proc.name if proc else key
