"""Idempotency keys (the IETF draft "The Idempotency-Key HTTP Header Field"): a key a caller
chose for one change, under which the first answer is kept for a day, so that sending the same
request again answers that answer instead of making the change twice.

A key is kept per account and credential, with a fingerprint of the request it was first used
for (a SHA-256 digest of method, target and body: never the body itself) and, once the first
call has ended, its answer. While the first call runs the key is reserved; a reservation older
than `LEASE` belongs to a process that died and may be taken over, and a key older than
`RETENTION` is forgotten.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

RETENTION = timedelta(hours=24)
"""How long a key and its answer are kept."""
LEASE = timedelta(minutes=5)
"""How long a call may hold a key without answering: longer than any call takes."""
MAX_KEY_LENGTH = 255

# Printable ASCII, space included (the draft's keys are Structured Field strings).
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")

BAD_KEY = (
    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
    '(bare, or as a quoted string: "...").'
)
KEY_REUSED = (
    "This Idempotency-Key was used for another request (another method, path or body); "
    "use a new key for a new request."
)
KEY_IN_FLIGHT = (
    "A request with this Idempotency-Key is still being processed; retry when it has ended."
)


def parse_key(value: bytes) -> str | None:
    """The key an `Idempotency-Key` header names, bare or as a Structured Field string
    (`"..."`, with `\\"` and `\\\\` escapes); None when it is not a key."""
    try:
        text = value.decode("ascii").strip(" ")
    except UnicodeDecodeError:
        return None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        unquoted = _unquoted(text[1:-1])
        if unquoted is None:
            return None
        text = unquoted
    return text if _KEY.fullmatch(text) else None


def _unquoted(inner: str) -> str | None:
    """The string inside a Structured Field string's quotes, or None when it escapes anything
    but `"` and `\\` or holds a bare `"`."""
    out: list[str] = []
    characters = iter(inner)
    for character in characters:
        if character == "\\":
            character = next(characters, "")
            if character not in ('"', "\\"):
                return None
        elif character == '"':
            return None
        out.append(character)
    return "".join(out)


def fingerprint(method: str, target: str, body: bytes) -> str:
    """What identifies a request for its key: SHA-256 of its method, its target (path and
    query) and its body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), target.encode("utf-8", "surrogatepass")):
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer as it was given: status, the headers worth giving again, body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class KeyScope:
    """Whose key it is: one credential of one account (keys of two credentials never meet)."""

    account_id: str
    credential: str


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A key in use: `holder` names the call that reserved it; `answer` is None while that call
    runs."""

    id: int
    fingerprint: str
    holder: str
    created_at: datetime
    answer: StoredAnswer | None

    def expired(self, now: datetime) -> bool:
        return now - self.created_at >= RETENTION

    def abandoned(self, now: datetime) -> bool:
        """Reserved by a call that has not answered for longer than any call takes."""
        return self.answer is None and now - self.created_at >= LEASE
