"""What a registrar reads for each rule: a short Chinese title, and the start-form fields the
rule judges (where a refusal is shown beside them on the page).

Keyed by the rule's name, which stays the id in the API and in the tests; a name several
procedures share (`graduating_year`, `class_size_cap`) means the same thing in each, and the
fields name every form's field it may concern (a page shows only those its form has). A
rule with no form field (the student's status, another open procedure) is shown above the form.
"""

from __future__ import annotations

TITLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "active_status": ("须有有效学籍", ()),
    "enrolled_status": ("须为在籍学生", ()),
    "suspended_status": ("须为休学学生", ()),
    "suspended_studies_nowhere": ("休学期间不得借读", ()),
    "already_borrowing": ("正在借读须先结束借读", ()),
    "currently_borrowing": ("须正在借读", ()),
    "no_open_procedure": ("同一时间只能办理一项业务", ()),
    "same_school": ("不能转入（借读于）本校", ("host_school_code",)),
    "grade_unchanged": ("年级不得变更", ("to_grade", "grade")),
    "stage_offered": ("转入学校须设该学段", ("host_school_code",)),
    "first_year_status": ("起始年级须先取得学籍", ()),
    "same_area": ("同一县（区）内不办理借读", ("host_school_code",)),
    "senior_category": ("高中借读须符合借读条件", ("category",)),
    "host_quota": ("借读生比例上限", ("host_school_code",)),
    "end_date_after_start": ("借读结束日期", ("end_date",)),
    "leaving_certificate_stage": ("肄业证书：学段", ()),
    "leaving_certificate_automatic": ("肄业证书：自动退学", ()),
    "leaving_certificate_one_year": ("肄业证书：在校满一年", ()),
    "leaving_certificate_passing": ("肄业证书：成绩合格", ()),
    "empty_cohort": ("须有毕业年级在籍学生", ("entry_year",)),
    "one_stage": ("一批只含一个学段", ("entry_year",)),
    "completed_certificate": ("须持有结业（修业）证书", ()),
    "exchange_stage": ("本学段不换发毕业证书", ()),
    "exchange_period": ("换发毕业证书期限", ()),
    "makeup_results_recorded": ("须有新的补考、重修成绩", ()),
    "now_graduating": ("须已达到毕业要求", ()),
    "value_changed": ("变更后的信息须与原信息不同", ("new_value", "birth_date", "gender")),
    "id_number_valid": ("身份证号须符合国家标准", ("new_value",)),
    "id_matches_identity": (
        "身份证号须与出生日期、性别一致",
        ("new_value", "birth_date", "gender"),
    ),
    "id_unique": ("一人一籍", ("new_value",)),
    "repeat_grade_allowed": ("本地区是否办理留级", ()),
    "one_grade_down": ("留级只降一个年级", ("to_grade",)),
    "one_grade_up": ("跳级只跳一个年级", ("to_grade",)),
    "same_stage": ("不得跨学段", ("to_grade",)),
    "class_size_cap": ("班额上限", ("to_class_name",)),
    "vocational_withdrawn_no_return": ("中职退学不得复学", ()),
    "returning_one_status": ("一人一籍", ()),
    "no_early_return": ("不得提前复学", ("resume_date",)),
    "resumption_grade": ("复学年级", ("to_grade", "equal_progress")),
    "skip_grade_allowed": ("本地区是否办理跳级", ()),
    "graduating_year": ("毕业年级不办理", ("principal_signed",)),
    "absence_threshold": ("缺课须达到休学条件", ("absence_hours", "year_hours", "term_hours")),
    "suspension_total": ("累计休学年限", ()),
    "placed_in_county": ("安置学校须在本县（区）", ("to_school_code",)),
    "transfer_window": ("转学办理时间", ()),
    "senior_vocational": ("普高与中职之间不转学", ("to_school_code",)),
    "within_county": ("本县（区）内不转学", ("to_school_code",)),
    "private_to_public": ("民办转公办的限制", ("to_school_code",)),
    "star_rule": ("星级学校转学限制", ("to_school_code",)),
    "class_named": ("须写明转入班级", ("to_class_name",)),
    "compulsory_withdrawal": ("义务教育阶段不得退学", ("reason",)),
    "absence_senior_only": ("擅自离校退学只适用于高中", ("reason",)),
    "absence_not_suspended": ("休学学生不属擅自离校", ("reason",)),
    "absence_over_a_month": ("擅自离校须满一个月", ("absent_since",)),
    "absence_reminded": ("须先书面督促返校", ("reminded_on",)),
}
