"""Users to add from a CSV, pasted or uploaded, read with the reader every face shares
(`entrypoints.member_csv`, whose docstring lists the columns). What is the console's own: a
CSV of at most 1 MB of UTF-8, and the bulk REST API's words for a row it can't take as one of
its items ("Invalid field scheme."): a row the reader can't read, or without the email and the
role every such item carries. Everything else about a row is refused, in the same words as
the API refuses it, by the membership changes service they share.
"""

from __future__ import annotations

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.roles import RoleCatalogue
from tenantry.entrypoints.member_csv import COLUMNS as COLUMNS
from tenantry.entrypoints.member_csv import CsvProblem, CsvUnreadable, Row, read_members
from tenantry.services.membership_commands import ItemError, NewMember

MAX_CSV_BYTES = 1_000_000

TOO_LARGE = "The CSV is larger than 1 MB."
NOT_UTF8 = "The CSV must be UTF-8 text."


def decode_csv(raw: bytes, field: str) -> str:
    """The text of an uploaded CSV file (UTF-8, with or without a byte order mark)."""
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput(ErrorCode.INVALID_INPUT, TOO_LARGE, field=field)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(ErrorCode.INVALID_INPUT, NOT_UTF8, field=field) from None


def read_rows(text: str, field: str, roles: RoleCatalogue) -> list[Row]:
    """The CSV's rows after its header, in order. A CSV that can't be read, or whose first
    line doesn't name the columns, is refused whole (about `field`)."""
    if len(text.encode()) > MAX_CSV_BYTES:
        raise InvalidInput(ErrorCode.INVALID_INPUT, TOO_LARGE, field=field)
    try:
        return read_members(text, roles)
    except CsvUnreadable as problem:
        raise InvalidInput(ErrorCode.INVALID_INPUT, str(problem), field=field) from None
    except CsvProblem as problem:
        raise InvalidInput(ErrorCode.INVALID_INPUT, str(problem), field=field) from None


def new_members(rows: list[Row]) -> tuple[list[tuple[int, NewMember]], list[ItemError]]:
    """The members to add, by row index, and the rows refused as items the API can't read."""
    members: list[tuple[int, NewMember]] = []
    refused: list[ItemError] = []
    for index, row in enumerate(rows):
        if row.member is None or not row.member.email or not row.member.role_key:
            scheme = InvalidInput(ErrorCode.INVALID_FIELD_SCHEME)
            refused.append(ItemError(index, row.email, scheme))
        else:
            members.append((index, row.member))
    return members, refused
