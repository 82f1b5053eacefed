"""Every table, the vocabulary and the China clock: the bottom layer, which imports nothing
of the project. Views, the engine and the handlers query through these classes."""

from .base import MAX_ID, db
from .clock import CHINA, china_midnight, china_today, scenario_day, utcnow
from .imports import IMPORT_KINDS, IMPORT_STATUSES, ImportJob
from .notices import AuditLog, FileUpload, Notification, acting_as, audit
from .organisations import Organization, User
from .processes import (
    HumanTask,
    Incident,
    Instance,
    InstanceEvent,
    InstanceScope,
    Lease,
    ProcessVersion,
)
from .records import (
    Certificate,
    CertificateSerial,
    HostedCopy,
    Result,
    RosterEntry,
    StatusHistory,
    Student,
    StudentScope,
)
from .saved import SAVED_FILTER_NAME_MAX, SAVED_FILTER_QUERY_MAX, SavedFilter
from .vocabulary import (
    ACTIVE_STATUSES,
    CLASSIFICATIONS,
    LEVEL_LABELS,
    LEVELS,
    RESULT_KINDS,
    ROLE_LABELS,
    ROLES,
    STAGES,
    STATUS_LABELS,
    STATUSES,
)

__all__ = [
    "MAX_ID",
    "ACTIVE_STATUSES",
    "CHINA",
    "CLASSIFICATIONS",
    "LEVELS",
    "LEVEL_LABELS",
    "RESULT_KINDS",
    "ROLES",
    "ROLE_LABELS",
    "STAGES",
    "STATUSES",
    "STATUS_LABELS",
    "AuditLog",
    "SAVED_FILTER_NAME_MAX",
    "SAVED_FILTER_QUERY_MAX",
    "SavedFilter",
    "Certificate",
    "CertificateSerial",
    "FileUpload",
    "IMPORT_KINDS",
    "IMPORT_STATUSES",
    "ImportJob",
    "HumanTask",
    "Incident",
    "Instance",
    "InstanceEvent",
    "InstanceScope",
    "Lease",
    "Notification",
    "Organization",
    "ProcessVersion",
    "HostedCopy",
    "Result",
    "RosterEntry",
    "StatusHistory",
    "Student",
    "StudentScope",
    "User",
    "acting_as",
    "audit",
    "china_midnight",
    "china_today",
    "db",
    "scenario_day",
    "utcnow",
]
