"""Audit events written out as a file, a line at a time: one writer for every face that exports
them (the console's "Export", `tenantry audit export`), so a file means the same wherever it
came from. It belongs to no face.

Two formats: CSV (a header, then a row per event; `before` and `after` as JSON text) and JSON
Lines (an object per line). A CSV cell that a spreadsheet would take for a formula (one that
begins with `=`, `+`, `-`, `@`, a tab or a carriage return, as OWASP's "CSV Injection" lists)
is written with a `'` in front, so that opening an export never runs what someone typed into a
name or a label; every cell is quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from tenantry.domain.audit import AuditEvent

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
COLUMNS = (
    "id",
    "at",
    "account_id",
    "action",
    "face",
    "request_id",
    "actor_kind",
    "actor_id",
    "actor_label",
    "actor_user_id",
    "actor_minted_by",
    "target_type",
    "target_id",
    "before",
    "after",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def record(event: AuditEvent) -> dict[str, Any]:
    """The event as the export writes it, keyed by `COLUMNS`."""
    return {
        "id": event.id,
        "at": event.at.isoformat() if event.at is not None else None,
        "account_id": event.account_id,
        "action": event.action,
        "face": event.face,
        "request_id": event.request_id,
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "actor_user_id": event.actor_user_id,
        "actor_minted_by": event.actor_minted_by,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "before": event.before,
        "after": event.after,
    }


def spreadsheet_safe(cell: str) -> str:
    """`cell`, with a `'` in front when a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return spreadsheet_safe(str(value))


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The header, then one CSV line (CRLF-terminated) per event, as each event arrives."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)

    def line(cells: Iterable[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(COLUMNS)
    for event in events:
        row = record(event)
        yield line(_cell(row[name]) for name in COLUMNS)


def jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """One JSON object per line per event, as each event arrives."""
    for event in events:
        yield orjson.dumps(record(event)).decode() + "\n"


def export_lines(events: Iterable[AuditEvent], format: Format) -> Iterator[str]:
    return csv_lines(events) if format == "csv" else jsonl_lines(events)


def file_name(account_id: str | None, format: Format) -> str:
    return f"audit-{account_id or 'all'}.{format}"


def parse_moment(text: str) -> datetime:
    """A date (`2024-05-31`, its midnight) or an ISO 8601 date and time; without an offset it
    is UTC. ValueError when it is neither."""
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
