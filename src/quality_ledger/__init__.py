"""quality_ledger: public quality campaigns as tamper-evident, event-sourced ledgers."""

from quality_ledger import commands, errors
from quality_ledger.domain.values import Actor, EventMeta
from quality_ledger.errors import LedgerError
from quality_ledger.ledger import Ledger, RecordedEvent
from quality_ledger.policy import AllowAll, DepartmentPolicy, Policy
from quality_ledger.receipts import Receipt
from quality_ledger.retry import execute_with_retry

__all__ = [
    "Actor",
    "AllowAll",
    "DepartmentPolicy",
    "EventMeta",
    "Ledger",
    "LedgerError",
    "Policy",
    "Receipt",
    "RecordedEvent",
    "commands",
    "errors",
    "execute_with_retry",
]
