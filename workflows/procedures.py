"""The procedures this platform runs: key, Chinese name, who starts them, with which form."""

from dataclasses import dataclass


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
        Procedure("info_change", "学籍信息变更", "info_change_apply", "school"),
        Procedure("registration", "新生注册", "registration_apply", "school", cohort=True),
    )
}


def procedure_name(key: str) -> str:
    proc = PROCEDURES.get(key)
    return proc.name if proc else key
