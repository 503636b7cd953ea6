"""Which fields hold personal data, and whose: the :class:`Personal` marker
on a model's field, and the plan the mapper follows for each event class.

A field is marked where it is declared, ``Annotated[str, Personal("user",
by=("user",))]``, once for every event that carries it (``EventMeta.user``
is in every event). The marker names the kind of data subject and the
fields of the same model that identify the subject: a nominee is her name
at her employer, a clerk his user name. The subject's id,
``"nominee:zhang min@xi'an cable works"``, is those values normalised as
commands normalise natural keys (width, case, spacing), so a data-subject
request finds the same subject however the name was typed.

Only events are planned: snapshots and views are caches rebuilt from them
(``Ledger.forget`` deletes and rebuilds what it must, docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from quality_ledger.commands import natural_key
from quality_ledger.domain.personal import Personal

__all__ = ["FieldPlan", "Personal", "plan", "subject_id"]


@dataclass(frozen=True)
class FieldPlan:
    """One personal field of an event class, as the mapper walks it."""

    path: tuple[str, ...]
    """From the event to the field: ``("person",)``, ``("meta", "user")``."""
    marker: Personal
    name: str = field(init=False)
    """The field's path written with dots: what the ciphertext is bound to."""
    bound: bytes = field(init=False)
    """:attr:`name` as the associated data ends with it (UTF-8)."""
    in_meta: bool = field(init=False)
    """In the event's ``meta`` (who recorded it), which replaying an aggregate never opens."""

    def __post_init__(self) -> None:
        # worked out once per class, not on every field of every event sealed or opened
        name = ".".join(self.path)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "bound", name.encode())
        object.__setattr__(self, "in_meta", self.path[0] == "meta")


MAX_SUBJECT = 512
"""Longest subject id ``forget`` and ``personal_data`` accept: a kind and two names of up to 200 characters."""


def subject_id(kind: str, values: tuple[object, ...]) -> str:
    """The subject id of ``kind`` identified by ``values`` (see the module)."""
    return f"{kind}:" + "@".join(natural_key(str(value)) for value in values)


def aggregate_subject(kind: str, aggregate_id: object) -> str:
    """The subject id of the ``kind`` of data an aggregate holds of the subject
    it was created for (a field marked without ``by``): ``nominee:#<id>``."""
    return f"{kind}:#{aggregate_id}"


def normalised_subject(subject: str) -> str:
    """A subject id as a caller typed it, normalised the way :func:`subject_id`
    makes one (``"nominee:Zhang Min@Xi'an Cable Works"`` finds the nominee)."""
    kind, _, rest = subject.partition(":")
    if rest.startswith("#"):
        return f"{kind}:#{rest[1:].strip().lower()}"
    return subject_id(kind, tuple(rest.split("@")))


def owner_of(event: BaseModel, field: FieldPlan) -> Any:
    """The model in ``event`` that holds ``field`` (``event`` itself, or its
    ``meta``...); None where a model on the way is absent."""
    owner: Any = event
    for name in field.path[:-1]:
        owner = owner.__dict__.get(name)
        if not isinstance(owner, BaseModel):
            return None
    return owner


def subject_of(event: BaseModel, owner: BaseModel, field: FieldPlan) -> str:
    """The subject whose data ``field`` (held by ``owner``, in ``event``) is:
    named by the fields of ``by``, or, without them, the subject ``event``'s
    aggregate was created for."""
    marker = field.marker
    if not marker.by:
        return aggregate_subject(marker.kind, event.__dict__.get("originator_id"))
    values = (marker.kind, *(owner.__dict__.get(f) for f in marker.by))
    found = _subjects.get(values)
    if found is None:
        if len(_subjects) > 4096:
            _subjects.clear()
        found = _subjects[values] = subject_id(marker.kind, values[1:])
    return found


_subjects: dict[tuple[object, ...], str] = {}
"""Subject ids by kind and identifying values: normalising names was a third of sealing."""

_plans: dict[type, tuple[FieldPlan, ...]] = {}


def plan(cls: type[BaseModel]) -> tuple[FieldPlan, ...]:
    """The personal fields of ``cls`` and of the models it holds, found once per class."""
    found = _plans.get(cls)
    if found is None:
        found = _plans[cls] = tuple(_walk(cls, ()))
    return found


def _walk(cls: type[BaseModel], prefix: tuple[str, ...]) -> list[FieldPlan]:
    plans: list[FieldPlan] = []
    for name, info in cls.model_fields.items():
        path = (*prefix, name)
        marker = next((m for m in info.metadata if isinstance(m, Personal)), None)
        if marker is not None:
            missing = [f for f in marker.by if f not in cls.model_fields]
            if missing:
                msg = f"{cls.__qualname__}.{name}: Personal(by=...) names fields it does not have: {missing}"
                raise TypeError(msg)
            if info.annotation not in (str, str | None):
                msg = f"{cls.__qualname__}.{name} is personal data, so a plain str (its stored form is an envelope), not {info.annotation}"
                raise TypeError(msg)
            plans.append(FieldPlan(path, marker))
        elif (model := _model(info.annotation)) is not None and len(path) < _DEPTH:
            plans.extend(_walk(model, path))
    return plans


_DEPTH = 4
"""How deep personal fields are looked for in nested models (an event's ``meta`` is 2)."""


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: its annotation, or the model of ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        models = [a for a in get_args(annotation) if a is not type(None)]
        if len(models) == 1:
            return _model(models[0])
    return None
