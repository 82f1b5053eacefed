"""The words of the records: levels, stages, roles, statuses and their Chinese labels."""

LEVELS = ("province", "city", "county", "school")
STAGES = ("primary", "junior", "senior", "vocational")
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
