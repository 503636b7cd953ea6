"""Machine-readable schemas, so services in any language can check what they
send (commands) and what they read (stored events, the SQL views).

:func:`export` writes JSON Schema (draft 2020-12) for every command and for
every version of every stored event, the views' DDL for SQLite and
PostgreSQL, and an ``index.json`` tying them together (docs/schemas.md).

A stored event is its pydantic model dumped to JSON without
``originator_id`` and ``originator_version`` (they are columns of the row),
plus ``"class_version": N`` when N > 1 (``persistence.PydanticMapper``), so
an event's schema is its model's *serialization* schema with those changes;
every field is required, since a dump always writes every field. Commands
are what a service sends, so theirs are *validation* schemas.

Old event versions no longer have a model (an upcaster turns them into the
current one), yet logs keep them for decades: the schema of each version is
frozen in ``released/`` when it is introduced, and the export copies the
frozen files of older versions. A frozen schema is a contract: the tests fail
when a class no longer matches the frozen schema of its current version
(bump ``class_version`` and add an upcaster instead) or when an older
version's file is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from quality_ledger import names
from quality_ledger.commands import COMMANDS
from quality_ledger.domain.base import DomainEvent
from quality_ledger.errors import ConfigurationError

__all__ = [
    "DRAFT",
    "ENVELOPE_IN_ROW",
    "RELEASED",
    "VERSION_FIELD",
    "class_version",
    "command_schema",
    "contract",
    "event_schema",
    "event_versions",
    "export",
    "file_name",
    "freeze",
    "released",
    "stored_events",
    "views_ddl",
]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
RELEASED = Path(__file__).with_name("released")
"""The frozen schema of every event version, named as in an export's ``events/``."""
ENVELOPE_IN_ROW = ("originator_id", "originator_version")
"""Fields stored as the row's columns, not inside its JSON state."""
VERSION_FIELD = "class_version"
"""Key of the stored JSON that names an event's version (absent: version 1)."""
DIALECTS: dict[str, type[Dialect]] = {"sqlite": sqlite.dialect, "postgresql": postgresql.dialect}
"""The engines whose DDL is exported: compiled without a database or a driver."""

_SCHEMA_MAPS = ("properties", "$defs", "patternProperties", "dependentSchemas")
"""Keywords whose value maps names to schemas (their keys are data, not keywords)."""
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames")


def stored_events() -> dict[str, type[DomainEvent]]:
    """Every stored event class by stable name (``names.STORED`` holds aggregates and snapshots too)."""
    return {name: cls for name, cls in names.STORED.items() if issubclass(cls, DomainEvent)}


def class_version(cls: type) -> int:
    return int(getattr(cls, "class_version", 1) or 1)


def file_name(name: str, event_version: int) -> str:
    """``quality-ledger/Inspection.ResultObjected`` v1 -> ``quality-ledger.Inspection.ResultObjected.v1.json``."""
    return f"{name.replace('/', '.')}.v{event_version}.json"


def command_schema(cls: type[BaseModel]) -> dict[str, Any]:
    """What a service may send as this command (``commands.parse`` reads it).

    ``command`` is required here though the model defaults it: ``parse``
    needs it to know which command the JSON is. Not expressible in JSON
    Schema: the bound on a whole command's size (``MAX_COMMAND_BYTES``).
    """
    schema = cls.model_json_schema(mode="validation")
    required = schema.setdefault("required", [])
    if "command" not in required:
        required.insert(0, "command")
    return {"$schema": DRAFT, **schema}


def event_schema(cls: type[BaseModel]) -> dict[str, Any]:
    """The JSON state this event class stores today (its current version)."""
    schema = cls.model_json_schema(mode="serialization")
    for key in ENVELOPE_IN_ROW:
        schema["properties"].pop(key, None)
    current = class_version(cls)
    if current > 1:
        schema["properties"][VERSION_FIELD] = {"const": current, "type": "integer"}
    _every_field_required(schema)
    return {"$schema": DRAFT, **schema}


def event_versions(name: str, cls: type[BaseModel]) -> dict[int, dict[str, Any]]:
    """The schema of every version of an event: older ones as frozen, the current one from the class."""
    current = class_version(cls)
    versions = {v: released(name, v) for v in range(1, current)}
    versions[current] = event_schema(cls)
    return versions


def released(name: str, event_version: int) -> dict[str, Any]:
    """The frozen schema of one event version."""
    path = RELEASED / file_name(name, event_version)
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        msg = f"the frozen schema of {name} v{event_version} ({path.name}) cannot be read: {e} (an incomplete install?)"
        raise ConfigurationError(msg) from None
    return loaded


def freeze(*, into: Path = RELEASED) -> list[Path]:
    """Freeze the current version of every event whose version has no frozen
    schema yet; never rewrites one. Run it when adding an event or bumping a
    ``class_version``, and commit what it wrote. Returns the files written."""
    written = []
    for name, cls in stored_events().items():
        path = into / file_name(name, class_version(cls))
        if not path.exists():
            path.write_text(_dumps(event_schema(cls)), encoding="utf-8")
            written.append(path)
    return written


def contract(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A schema without its words (``title``, ``description``): what two schemas
    must share to accept the same documents, whatever their docstrings say."""
    return _walk(schema, lambda s: {k: v for k, v in s.items() if k not in ("title", "description")})


def views_ddl(dialect: str, tables: MetaData | None = None) -> str:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements of the views, for one engine."""
    from quality_ledger.projections.schema import metadata

    compiler = DIALECTS[dialect]()
    statements = []
    for table in (tables or metadata).sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=compiler)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=compiler)).strip()
            for index in sorted(table.indexes, key=lambda i: i.name or "")
        )
    head = f"-- The SQL views of quality_ledger {_version()} on {dialect}, for readers (docs/views.md).\n"
    head += "-- Generated by 'quality-ledger schema export'; the ledger creates these tables itself.\n\n"
    return head + "".join(f"{statement};\n\n" for statement in statements)


def export(directory: Path | str, *, force: bool = False) -> dict[str, Any]:
    """Write every schema into ``directory`` (created if missing, its parent must
    exist); refuse a non-empty directory unless ``force``, which then writes
    over files of the same names. Returns the index (also ``index.json``)."""
    from quality_ledger import files

    path = Path(directory)
    files.check_out(path, force=force, directory=True)
    documents = dict(_documents())
    with files.directory(path) as into:
        try:
            for relative, text in documents.items():
                target = into / relative
                target.parent.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8")
        except OSError as e:
            msg = f"cannot write the schemas into {path}: {e.strerror or type(e).__name__}"
            raise ConfigurationError(msg) from None
    index: dict[str, Any] = json.loads(documents["index.json"])
    return index


def _documents() -> Iterator[tuple[str, str]]:
    """Every file of an export, by path relative to its directory; ``index.json`` last."""
    index: dict[str, Any] = {
        "$comment": "quality_ledger schemas: see docs/schemas.md",
        "generator": f"quality_ledger {_version()}",
        "json_schema": DRAFT,
        "commands": {},
        "events": {},
        "topics": {},
        "views": {},
        "stored_event": {
            "state": "the row's JSON state; the row's columns hold " + " and ".join(ENVELOPE_IN_ROW),
            "version_field": VERSION_FIELD,
            "version_when_absent": 1,
        },
    }
    for command, command_class in COMMANDS.items():
        relative = f"commands/{command}.json"
        index["commands"][command] = relative
        yield relative, _dumps(command_schema(command_class))
    for name, cls in stored_events().items():
        versions = {}
        for event_version, schema in event_versions(name, cls).items():
            relative = f"events/{file_name(name, event_version)}"
            versions[str(event_version)] = relative
            yield relative, _dumps(schema)
        index["events"][name] = {"current": class_version(cls), "versions": versions}
    for topic, cls in {**names.LEGACY_TOPICS, **names.STORED}.items():
        if issubclass(cls, DomainEvent):
            index["topics"][topic] = next(n for n, c in names.STORED.items() if c is cls)
    for dialect in DIALECTS:
        relative = f"views/{dialect}.sql"
        index["views"][dialect] = relative
        yield relative, views_ddl(dialect)
    yield "index.json", _dumps(index)


def _every_field_required(schema: dict[str, Any]) -> None:
    """A dump writes every field, defaults included: in what is stored, each is present."""

    def require(node: dict[str, Any]) -> dict[str, Any]:
        if isinstance(node.get("properties"), dict) and node.get("type") == "object":
            node = {**node, "required": list(node["properties"])}
        return node

    schema.update(_walk(schema, require))


def _walk(schema: Mapping[str, Any], change: Any) -> dict[str, Any]:
    """``change`` applied to every subschema, bottom up; names under ``properties`` and the like are left alone."""
    node: dict[str, Any] = dict(schema)
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            node[key] = {k: _walk(v, change) if isinstance(v, dict) else v for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            node[key] = [_walk(v, change) if isinstance(v, dict) else v for v in value]
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            node[key] = _walk(value, change)
    result: dict[str, Any] = change(node)
    return result


def _dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _version() -> str:
    try:
        return version("quality_ledger")
    except PackageNotFoundError:
        return "(not installed)"
