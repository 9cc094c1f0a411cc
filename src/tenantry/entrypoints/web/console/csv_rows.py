"""Users to add, read from a CSV file: each row becomes the item a bulk REST body would carry,
so the console refuses exactly what the bulk API refuses, in the same words.

The first line names the columns (any order, any case): `email` and `role` at least, and any of
`username`, `department`, `app_ids`, `media_sources`, `geos`. A list cell separates its values
with ";". An empty cell is a missing field: an empty `app_ids` means every app, including
future ones, and an empty `media_sources` or `geos` means all of them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

import orjson

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.entrypoints.bulk_rest.operations import parse_new_users
from tenantry.services.context import ServiceContext
from tenantry.services.membership_commands import ItemError, NewMember

COLUMNS = ("email", "role", "username", "department", "app_ids", "media_sources", "geos")
REQUIRED = ("email", "role")
LIST_COLUMNS = frozenset({"app_ids", "media_sources", "geos"})
MAX_CSV_BYTES = 1_000_000
LIST_SEPARATOR = ";"

TOO_LARGE = "The CSV is larger than 1 MB."
NOT_UTF8 = "The CSV must be UTF-8 text."
EMPTY = "The CSV has no lines."
NO_USERS = "The CSV has no users after its first line."
NO_HEADER = (
    "The first line must name the columns, email and role at least: " + ",".join(COLUMNS) + "."
)


def decode_csv(raw: bytes, field: str) -> str:
    """The text of an uploaded CSV file (UTF-8, with or without a byte order mark)."""
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput(ErrorCode.INVALID_INPUT, TOO_LARGE, field=field)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(ErrorCode.INVALID_INPUT, NOT_UTF8, field=field) from None


def read_items(text: str, field: str) -> list[dict[str, Any]]:
    """The bulk REST items of a CSV's rows, in order; blank lines are skipped. A CSV that can't
    be read, or whose first line doesn't name the columns, is refused whole (about `field`)."""
    if len(text.encode()) > MAX_CSV_BYTES:
        raise InvalidInput(ErrorCode.INVALID_INPUT, TOO_LARGE, field=field)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        lines = [row for row in reader if _filled(row)]
    except csv.Error as error:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"The CSV could not be read at line {reader.line_num}: {error}.",
            field=field,
        ) from None
    if not lines:
        raise InvalidInput(ErrorCode.INVALID_INPUT, EMPTY, field=field)
    header = [name.strip().lower() for name in lines[0]]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown or any(name not in header for name in REQUIRED):
        raise InvalidInput(ErrorCode.INVALID_INPUT, NO_HEADER, field=field)
    if len(set(header)) != len(header):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "The first line names a column twice.", field=field
        )
    if len(lines) == 1:
        raise InvalidInput(ErrorCode.INVALID_INPUT, NO_USERS, field=field)
    return [item_of(header, row) for row in lines[1:]]


def item_of(header: list[str], row: list[str]) -> dict[str, Any]:
    """One row as the bulk REST item that says the same."""
    item: dict[str, Any] = {}
    for name, cell in zip(header, row, strict=False):
        value = cell.strip()
        if not value:
            continue  # a missing field, as the API's defaults read it
        if name in LIST_COLUMNS:
            item[name] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
        else:
            item[name] = value
    # The API wants these two in every item; a CSV row may leave them out.
    item.setdefault("username", "")
    item["allow_access_to_all_future_apps"] = "app_ids" not in item
    for number, extra in enumerate(row[len(header) :], start=len(header) + 1):
        if extra.strip():
            item[f"column {number}"] = extra  # a cell under no column: not the item's scheme
    return item


def new_members(
    ctx: ServiceContext, items: list[dict[str, Any]]
) -> tuple[list[tuple[int, NewMember]], list[ItemError]]:
    """The members to add, by row index, and the rows refused for their scheme: what the bulk
    API makes of the same items (its limit per call included)."""
    members, refused = parse_new_users(ctx, orjson.dumps(items))
    # An empty username cell: no username, where the API would insist on one.
    return [
        (index, replace(member, username=None) if not items[index]["username"] else member)
        for index, member in members
    ], refused


def _filled(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)
