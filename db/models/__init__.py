"""The whole schema, one module per feature; importing this package registers every table on
`Base.metadata` (Alembic and the tests read it from here)."""

from db.models.api import ApiCheck, ApiIdempotency, ApiKey
from db.models.archive import (
    Account,
    AccountSubject,
    AuditEntry,
    BindingCode,
    Check,
    CreditRecord,
    Department,
    Division,
    RecordChange,
    Subject,
    SubjectAlias,
)
from db.models.attempts import AttemptLimit
from db.models.base import Base, UTCDateTime, utcnow
from db.models.changes import ChangeEvent, SubjectChange
from db.models.collection import PeriodReport, ReminderClaim, ReportingDuty, Upload
from db.models.conversations import AppliedUpdate, Conversation
from db.models.declarations import Declaration, LinkAttempts, LinkSecret
from db.models.documents import IssuedDocument
from db.models.evaluation import (
    GradeChange,
    RiskWarning,
    SubjectEvaluation,
    WarningDelivery,
    WatchSubscription,
)
from db.models.inbound import InboundEvent
from db.models.lifecycle import CreditReport, DocumentSequence, Listing, Objection, RepairRequest
from db.models.notices import Notice
from db.models.outbox import OutboxProgress
from db.models.persons import SubjectPerson
from db.models.repair_cases import RepairNotice, ReportAuthorisation, StoredDocument, SubjectMasking
from db.models.resolver_context import ChatSubject
from db.models.schedule import ScheduledRun
from db.models.wechat import DownloadLink, WeChatChoice, WeChatUser
from db.models.wecom import (
    WeComCard,
    WeComMessage,
    WeComSend,
    WeComToken,
    WeComUser,
)

__all__ = [
    "Account",
    "AccountSubject",
    "ApiCheck",
    "ApiIdempotency",
    "ApiKey",
    "AppliedUpdate",
    "AttemptLimit",
    "AuditEntry",
    "Base",
    "BindingCode",
    "ChangeEvent",
    "ChatSubject",
    "Check",
    "Conversation",
    "CreditRecord",
    "CreditReport",
    "Declaration",
    "Department",
    "Division",
    "DocumentSequence",
    "DownloadLink",
    "GradeChange",
    "InboundEvent",
    "IssuedDocument",
    "LinkAttempts",
    "LinkSecret",
    "Listing",
    "Notice",
    "Objection",
    "OutboxProgress",
    "PeriodReport",
    "RecordChange",
    "ReminderClaim",
    "RepairNotice",
    "RepairRequest",
    "ReportAuthorisation",
    "ReportingDuty",
    "RiskWarning",
    "ScheduledRun",
    "StoredDocument",
    "Subject",
    "SubjectAlias",
    "SubjectChange",
    "SubjectEvaluation",
    "SubjectMasking",
    "SubjectPerson",
    "UTCDateTime",
    "Upload",
    "WarningDelivery",
    "WatchSubscription",
    "WeChatChoice",
    "WeChatUser",
    "WeComCard",
    "WeComMessage",
    "WeComSend",
    "WeComToken",
    "WeComUser",
    "utcnow",
]
