"""The views read whole into memory: how certificates and views verification
worked before they streamed, kept as the tests' oracle for the streaming code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from quality_ledger.projections.comparison import _neutral
from quality_ledger.projections.schema import VIEW_TABLES


def whole_dump(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every view row in memory, ordered by primary key, values neutralised."""
    return {
        table.name: [
            {k: _neutral(v) for k, v in row.items()}
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        ]
        for table in VIEW_TABLES
    }
