"""How events become stored rows and back: compact JSON, validated on the
way in by the event's pydantic model, brought up to the current schema
(``upcast_vN_vM``) first. Kept apart so that its encoding can change
(for speed, say) without touching where the rows are stored."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from pydantic import BaseModel, ValidationError

from quality_ledger import names  # noqa: F401  # installs the stable names before any topic is read or written
from quality_ledger.errors import IntegrityError
from quality_ledger.privacy.at_rest import MAGIC, EventCipher
from quality_ledger.privacy.fields import MARK, FieldCipher


class PydanticMapper(Mapper[UUID]):
    """Stores events as compact JSON and rebuilds them with validation.

    Unlike the default mapper this validates every stored row with the event's
    pydantic model, so a damaged or forged row fails loudly instead of
    building a half-formed event; upcasting (``class_version`` with
    ``upcast_vN_vM``) still runs before validation.

    With ``privacy`` (every ledger's mapper has it: :class:`EventLog` gives
    it the ledger's key store), the fields marked
    :class:`~quality_ledger.privacy.Personal` are sealed under their data
    subject's key as the row is made and opened as it is read
    (:mod:`quality_ledger.privacy.fields`). A mapper without it reads a row
    that holds sealed fields as an error, never as the sealed strings.
    """

    privacy: FieldCipher | None = None
    at_rest: EventCipher | None = None
    """Set on a ledger encrypted at rest (:mod:`quality_ledger.privacy.at_rest`):
    every row is compressed and sealed whole, after its personal fields."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        privacy = self.privacy
        if privacy is None:
            stored = self._encoded(domain_event)
        else:
            changes = privacy.sealed(domain_event)
            try:
                stored = self._encoded(domain_event)
            finally:
                privacy.restore(changes)
        if self.at_rest is not None:
            stored = StoredEvent(
                originator_id=stored.originator_id,
                originator_version=stored.originator_version,
                topic=stored.topic,
                state=self.at_rest.seal(stored.state, stored.originator_id, stored.originator_version, stored.topic),
            )
        return stored

    def plain(self, stored_event: StoredEvent) -> bytes:
        """A row's JSON, opened first if the ledger is encrypted at rest."""
        if self.at_rest is not None:
            return self.at_rest.open(
                stored_event.state, stored_event.originator_id, stored_event.originator_version, stored_event.topic
            )
        if stored_event.state.startswith(MAGIC):
            msg = "it is encrypted at rest, and this mapper has no key to open it"
            raise ValueError(msg)
        return stored_event.state

    def _encoded(self, domain_event: Any) -> StoredEvent:
        event: BaseModel = domain_event
        cls = type(event)
        class_version = getattr(cls, "class_version", 1)
        if _encodes_natively(cls):
            state = cls.__pydantic_serializer__.to_json(event, exclude=_IDS)
            if class_version > 1:  # where json.dumps put it: after every field
                state = state[:-1] + (b"," if state != b"{}" else b"") + b'"class_version":%d}' % class_version
        else:
            fields = event.model_dump(mode="json", exclude=_IDS)
            if class_version > 1:
                fields["class_version"] = class_version
            state = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(cls),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.decode(stored_event)

    def decode(self, stored_event: StoredEvent, *, metadata: bool = True, plain: bytes | None = None) -> Any:
        """The event a row holds; without ``metadata``, its ``meta``'s personal
        fields stay sealed (:class:`ReplayMapper`). ``plain``: the row's JSON
        as :meth:`plain` gave it, for a caller that opened the row already."""
        try:
            state = stored_event.state if plain is None else plain
            if plain is None and (self.at_rest is not None or state.startswith(MAGIC)):
                state = self.plain(stored_event)
            cls, current = _class_of(stored_event.topic)
            if current and b'"class_version"' not in state:
                # Fast path: let pydantic parse the JSON itself, ids spliced in front.
                head = f'{{"originator_id":"{stored_event.originator_id}","originator_version":{stored_event.originator_version},'
                event = cls.model_validate_json(head.encode() + (state[1:] if state.startswith(b"{") else b"}"))
            else:
                event = self._upcast(cls, stored_event, state)
            if MARK in state:
                if self.privacy is None:
                    msg = "it holds sealed personal data, and this mapper has no keys to open it"
                    raise ValueError(msg)
                self.privacy.open(event, metadata=metadata)
            return event
        except (ValueError, TypeError, AttributeError, ImportError, TopicError, ValidationError) as e:
            where = f"{stored_event.topic} {stored_event.originator_id} v{stored_event.originator_version}"
            msg = f"stored event {where} cannot be read: {e}"
            raise IntegrityError(msg) from e

    @staticmethod
    def _upcast(cls: Any, stored_event: StoredEvent, plain: bytes) -> Any:
        """Bring a stored payload (``plain``, the row's JSON) of an earlier
        schema version up to ``cls``'s, one ``upcast_vN_vM`` at a time. The
        stored bytes never change (the hash chain covers them): upcasting
        happens on every read."""
        state: dict[str, Any] = json.loads(plain)
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        if not isinstance(from_version, int) or isinstance(from_version, bool) or from_version < 1:
            msg = f"class_version {from_version!r} is not a schema version"
            raise ValueError(msg)
        if from_version > class_version:
            msg = (
                f"it was written with schema v{from_version}, newer than the v{class_version} "
                "this version of quality_ledger reads: upgrade quality_ledger"
            )
            raise ValueError(msg)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return cls.model_validate(state)


_classes: dict[str, tuple[Any, bool]] = {}


def _class_of(topic: str) -> tuple[Any, bool]:
    """The class a stored topic names, and whether it is at schema version 1
    (its rows take the fast path): looked up once per topic, as eventsourcing's
    ``resolve_topic`` caches it, without its per-call work. A topic that does
    not resolve raises, and is asked again next time."""
    found = _classes.get(topic)
    if found is None:
        cls = resolve_topic(topic)
        found = _classes[topic] = (cls, getattr(cls, "class_version", 1) == 1)
    return found


_IDS: set[str] = {"originator_id", "originator_version"}
"""Stored in their own columns, not in the payload (a set: what pydantic's ``exclude`` takes)."""

_native: dict[type, bool] = {}


def _encodes_natively(cls: type[BaseModel]) -> bool:
    """Whether pydantic's own JSON (``to_json``, a third of the time) gives
    exactly the bytes ``json.dumps(model_dump(mode="json"), ensure_ascii=False,
    separators=(",", ":"))`` gives: the bytes every stored event was written
    with, which the hash chain covers.

    They agree on strings (any script, escapes included), integers, decimals,
    dates, UUIDs, enums and None, but not on floats (``1e-07`` against
    ``1e-7``), and nothing is known of what custom serialisers or ``Any``
    fields would hold: a class whose schema has any of those keeps the old
    encoding. Asked once per class.
    """
    found = _native.get(cls)
    if found is None:
        found = _native[cls] = "class_version" not in cls.model_fields and not _risky(cls.__pydantic_core_schema__)
    return found


_RISKY_TYPES = frozenset({"float", "complex", "any"})


def _risky(schema: Any) -> bool:
    """A float, complex or ``Any`` value, or a custom serialiser, anywhere in a core schema."""
    if isinstance(schema, dict):
        if schema.get("type") in _RISKY_TYPES or "serialization" in schema:
            return True
        return any(_risky(value) for value in schema.values())
    if isinstance(schema, list | tuple):
        return any(_risky(value) for value in schema)
    return False


class ReplayMapper(Mapper[UUID]):
    """The ledger's mapper as aggregates are replayed through it: an event's
    ``meta`` (who recorded it) stays sealed, since no aggregate reads it; its
    payload opens as ever. Reads the ledger's mapper's settings as they are
    now (its keys and at-rest cipher are set after the repository is built)."""

    def __init__(self, mapper: PydanticMapper) -> None:
        super().__init__(transcoder=mapper.transcoder)
        self.mapper = mapper

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return self.mapper.to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.mapper.decode(stored_event, metadata=False)
