"""What ``Ledger.execute`` returns, and how idempotency keys remember it.

The classes live in :mod:`quality_ledger.command_records` (stored, so the
projections read them too); this module keeps the names where callers
import them.
"""

from __future__ import annotations

from quality_ledger.command_records import CommandRecord, CommandRecordState, Receipt, record_id

__all__ = ["CommandRecord", "CommandRecordState", "Receipt", "record_id"]
