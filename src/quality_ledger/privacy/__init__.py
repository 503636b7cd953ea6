"""Personal data: marked in the models, sealed per data subject, erasable.

docs/privacy.md is the guide: what is personal, how it is stored, what
``Ledger.forget`` guarantees and what it cannot reach.
"""

from quality_ledger.privacy.fields import ERASED, FieldCipher
from quality_ledger.privacy.keys import CACHE_SECONDS, KEY_TABLE, KeyStore, MemoryKeyStore, key_store_for
from quality_ledger.privacy.marks import MAX_SUBJECT, Personal, normalised_subject, plan, subject_id

__all__ = [
    "CACHE_SECONDS",
    "ERASED",
    "KEY_TABLE",
    "MAX_SUBJECT",
    "FieldCipher",
    "KeyStore",
    "MemoryKeyStore",
    "Personal",
    "key_store_for",
    "normalised_subject",
    "plan",
    "subject_id",
]
