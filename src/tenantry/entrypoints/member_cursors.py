"""The text form of a cursor into an account's members (`services.members.list_members`), as
every face that pages members hands it out: opaque, URL-safe, and checked when it comes back."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

import orjson

from tenantry.domain.ids import is_user_id
from tenantry.services.ports import MemberCursor


def encode_cursor(cursor: MemberCursor) -> str:
    joined, user_id = cursor
    raw = orjson.dumps([joined.isoformat(), user_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> MemberCursor | None:
    """The cursor `text` encodes, or None when it is not one `encode_cursor` made."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        joined, user_id = orjson.loads(raw)
        moment = datetime.fromisoformat(joined)
        if moment.tzinfo is None:
            return None  # a cursor's moment has its offset
        moment = moment.astimezone(UTC)  # at the calendar's edges there is none: refused
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError, OverflowError):
        return None
    if not isinstance(user_id, str) or not is_user_id(user_id):
        return None
    return moment, user_id
