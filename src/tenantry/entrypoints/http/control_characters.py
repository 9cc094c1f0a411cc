"""Control characters no field accepts, found wherever text comes into a request.

U+0000 to U+0008, U+000B, U+000C, U+000E to U+001F and U+007F belong in nothing tenantry keeps:
PostgreSQL refuses a NUL in text (the request would end in a 500) and SQLite would store it.
Tab, LF and CR are left to the fields: free text may take them, and the core refuses them where
a field does not.

Text comes in as the decoded path, the query string and the body, each encoded its own way:
percent escapes in query strings and forms (`%00`), escapes in JSON strings (`\\u0000`, `\\b`,
`\\f`), raw bytes in the fields of a multipart form. Every check here is exact for its encoding.
A body is scanned chunk by chunk as the face reads it (a body no face reads is not refused: its
text goes nowhere). A JSON chunk without a backslash costs two searches for one byte, a form
one pass over its bytes in C, so a request without escapes pays next to nothing; the exact
checks run only on the few bodies that have a candidate.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FORBIDDEN = frozenset(map(chr, (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)))
_FORBIDDEN_BYTES = "".join(sorted(FORBIDDEN)).encode("ascii")
_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_IN_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PERCENT_ESCAPE = re.compile(rb"%(0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")
_JSON_ESCAPE = re.compile(rb"\\(?:u00(0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])|([bf]))")
_JSON_SHORT_ESCAPES = {b"b": "\b", b"f": "\f"}
_LONGEST_JSON_ESCAPE = len(b"\\u0000")
_LONGEST_PERCENT_ESCAPE = len(b"%00")


def describe(character: str) -> str:
    """What a refusal says about `character`."""
    return (
        f"The request contains a control character (U+{ord(character):04X}), "
        "which no field accepts."
    )


def in_text(text: str) -> str | None:
    """The first forbidden character of decoded text, or None."""
    if text.isprintable():  # no control character is printable; this runs in C
        return None
    found = _IN_TEXT.search(text)
    return found.group() if found else None


def in_bytes(data: bytes) -> str | None:
    """A forbidden character among raw bytes, or None. Exact for ASCII, UTF-8 and Latin-1
    text alike: each of these characters is one byte, never part of a UTF-8 sequence."""
    if len(data.translate(None, _FORBIDDEN_BYTES)) == len(data):  # one pass in C
        return None
    found = _IN_BYTES.search(data)
    return chr(found.group()[0]) if found else None


def in_urlencoded(data: bytes) -> str | None:
    """A forbidden character of a query string or form body once decoded (raw, or a percent
    escape such as `%00`), or None."""
    found = _PERCENT_ESCAPE.search(data) if b"%" in data else None  # memchr first
    return chr(int(found.group(1), 16)) if found else in_bytes(data)


def in_json(data: bytes) -> str | None:
    """A forbidden character of the strings (keys too) of JSON text once decoded, or None.

    Raw, only DEL can be in valid JSON: the other control bytes make the text invalid, and
    the faces' parsers refuse it. Escaped, a backslash before `u00..`, `b` or `f` starts an
    escape unless it is escaped itself (`\\\\u0000` is six characters of text): with every
    pair of backslashes dropped, a backslash is left exactly where an escape starts. That
    holds for any text in JSON's string syntax, whether the document is valid or not.
    """
    if b"\x7f" in data:
        return "\x7f"
    if not _may_escape(data):
        return None
    found = _JSON_ESCAPE.search(data.replace(b"\\\\", b""))
    if found is None:
        return None
    code, short = found.groups()
    return chr(int(code, 16)) if code else _JSON_SHORT_ESCAPES[short]


def in_multipart_fields(data: bytes, boundary: bytes) -> str | None:
    """A forbidden character in a `multipart/form-data` body's fields other than files, or
    None. Files are the face's to read (a CSV has rules of its own; an image may hold any
    byte). A body the parser cannot read is left to the face, which parses it the same way."""
    fields = _Fields()
    parser = MultipartParser(boundary, fields.callbacks())
    try:
        parser.write(data)
        parser.finalize()
    except FormParserError:
        return None
    return fields.found


def in_target(path: str, query: bytes) -> str | None:
    """A forbidden character of the decoded path or of the query string, or None."""
    return in_text(path) or (in_urlencoded(query) if query else None)


def _may_escape(data: bytes) -> bool:
    """Whether `data` has a candidate escape. Most bodies have no backslash at all, and a
    search for one byte (memchr) is the cheapest way to tell."""
    return b"\\" in data and _JSON_ESCAPE.search(data) is not None


class BodyScan(Protocol):
    def feed(self, chunk: bytes, *, last: bool) -> str | None:
        """Look at the body's next chunk (`last`: none follows); a forbidden character found,
        or None."""
        ...


# Charsets in which every forbidden character is its one byte, as the scans assume. A form
# may name another (UTF-7, UTF-16...) and the parser would decode it so, past any byte check.
_SCANNED_CHARSETS = frozenset(
    {b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1", b"latin1"}
)


def unscannable_charset(content_type: bytes) -> bool:
    """Whether a form body declares a charset whose text these checks can't see into."""
    media, options = parse_options_header(content_type)
    charset = options.get(b"charset")
    return (
        media in (b"application/x-www-form-urlencoded", b"multipart/form-data")
        and charset is not None
        and charset.strip().lower() not in _SCANNED_CHARSETS
    )


def body_scan(content_type: bytes) -> BodyScan:
    """How to scan a body of `content_type`. Some faces read every body as JSON whatever its
    content type says, so a form body is checked as JSON too: a browser's form never holds a
    raw backslash (it sends `%5C`, or the file's own bytes in a multipart upload), so the
    JSON check costs it nothing and misjudges nothing a person types."""
    media = content_type.partition(b";")[0].strip().lower()
    if media == b"application/x-www-form-urlencoded":
        return _Both(_UrlencodedScan(), _JsonScan())
    if media == b"multipart/form-data":
        boundary = parse_options_header(content_type)[1].get(b"boundary", b"")
        return _Both(_MultipartScan(boundary), _NotMultipartScan(boundary))
    return _JsonScan()


class _NotMultipartScan:
    """The JSON check, for a body that says it is multipart but does not open with its
    boundary: a face that reads JSON whatever the type says would read it. A real multipart
    body's files are left alone (a CSV may well hold `C:\\files\\bob`)."""

    def __init__(self, boundary: bytes) -> None:
        self._opening = b"--" + boundary
        self._head = b""
        self._decided = False
        self._json: _JsonScan | None = None  # decided and None: a real multipart body

    def feed(self, chunk: bytes, *, last: bool) -> str | None:
        if not self._decided:
            self._head += chunk
            if len(self._head) < len(self._opening) and not last:
                return None
            self._decided = True
            if not self._head.lstrip().startswith(self._opening):
                self._json = _JsonScan()
            chunk, self._head = self._head, b""
        return self._json.feed(chunk, last=last) if self._json is not None else None


class _Both:
    """Two scans of one body: the first character either finds."""

    def __init__(self, first: BodyScan, second: BodyScan) -> None:
        self._first, self._second = first, second

    def feed(self, chunk: bytes, *, last: bool) -> str | None:
        return self._first.feed(chunk, last=last) or self._second.feed(chunk, last=last)


class _UrlencodedScan:
    """Exact chunk by chunk; the last bytes of a chunk are looked at again with the next, for
    an escape split between the two."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes, *, last: bool) -> str | None:
        keep = _LONGEST_PERCENT_ESCAPE - 1
        found = in_urlencoded(self._tail + chunk[:keep]) or in_urlencoded(chunk)
        self._tail = (self._tail + chunk[-keep:])[-keep:]
        return found


class _JsonScan:
    """Candidates chunk by chunk, as in `_UrlencodedScan`; whether one is an escape depends on
    the backslashes before it, as far back as the body goes, so the exact check runs once on
    the whole body when it is complete, and only if some chunk had a candidate. The chunks
    kept are the ones the face holds until then anyway."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._tail = b""
        self._candidate = False

    def feed(self, chunk: bytes, *, last: bool) -> str | None:
        if chunk:
            if b"\x7f" in chunk:
                return "\x7f"
            self._chunks.append(chunk)
            if not self._candidate:
                keep = _LONGEST_JSON_ESCAPE - 1
                self._candidate = _may_escape(self._tail + chunk[:keep]) or _may_escape(chunk)
                self._tail = (self._tail + chunk[-keep:])[-keep:]
        if not last:
            return None
        chunks, self._chunks = self._chunks, []
        return in_json(b"".join(chunks)) if self._candidate else None


class _MultipartScan:
    """Raw bytes chunk by chunk; only when some chunk has one (in a field or in a file) is the
    whole body parsed, once it is complete, to see whether it was in a field."""

    def __init__(self, boundary: bytes) -> None:
        self._boundary = boundary
        self._chunks: list[bytes] = []
        self._candidate = False

    def feed(self, chunk: bytes, *, last: bool) -> str | None:
        self._chunks.append(chunk)
        self._candidate = self._candidate or in_bytes(chunk) is not None
        if not last:
            return None
        chunks, self._chunks = self._chunks, []
        return in_multipart_fields(b"".join(chunks), self._boundary) if self._candidate else None


class _Fields:
    """python-multipart callbacks that look at the headers and data of every part that is not
    a file (one without a `filename`, as Starlette tells them apart)."""

    def __init__(self) -> None:
        self.found: str | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._name = b""
        self._value = b""
        self._in_field = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
        }

    def _part_begin(self) -> None:
        self._headers = []
        self._in_field = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers.append((self._name.lower(), self._value))
        self._name, self._value = b"", b""

    def _headers_finished(self) -> None:
        disposition = dict(self._headers).get(b"content-disposition", b"")
        self._in_field = b"filename" not in parse_options_header(disposition)[1]
        if self._in_field:
            self._look(b"".join(value for _, value in self._headers))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_field:
            self._look(data[start:end])

    def _look(self, data: bytes) -> None:
        self.found = self.found or in_bytes(data)
