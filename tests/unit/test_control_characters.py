"""Finding control characters in the text of a request, in each encoding it comes in."""

from __future__ import annotations

import json
import unicodedata
from itertools import pairwise
from typing import Any
from urllib.parse import quote_plus, unquote_to_bytes

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tenantry.entrypoints.http.control_characters import (
    FORBIDDEN,
    body_scan,
    describe,
    in_json,
    in_multipart_fields,
    in_target,
    in_text,
    in_urlencoded,
    unscannable_charset,
)

ALLOWED_CONTROLS = "\t\n\r"
BOUNDARY = b"----boundary7MA4YWxk"
FORM = b"application/x-www-form-urlencoded"
MULTIPART = b"multipart/form-data; boundary=" + BOUNDARY

# Text rich in what matters here: control characters, backslashes and what follows them in
# escapes, percent signs and hex digits.
TRICKY = st.text(
    st.sampled_from([*FORBIDDEN, *ALLOWED_CONTROLS, "\\", "u", "0", "1", "7", "f", "F", "b"])
    | st.sampled_from(['"', "%", "a", " ", "é", "\u2028", "\U0001f600"]),
    max_size=30,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY, inner, max_size=4),
    max_leaves=12,
)


def holds_forbidden(value: Any) -> bool:
    """Whether a decoded JSON value has a forbidden character in a string, keys included."""
    if isinstance(value, str):
        return any(ch in FORBIDDEN for ch in value)
    if isinstance(value, list):
        return any(holds_forbidden(item) for item in value)
    if isinstance(value, dict):
        return any(holds_forbidden(k) or holds_forbidden(v) for k, v in value.items())
    return False


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    """A multipart/form-data body of (name, content, filename or None) parts."""
    body = b""
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += b"--" + BOUNDARY + b"\r\n"
        body += f"Content-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + b"--" + BOUNDARY + b"--\r\n"


def scanned(content_type: bytes, chunks: list[bytes]) -> str | None:
    """What a body scan finds when the body comes in `chunks`."""
    scan = body_scan(content_type)
    found = None
    for number, chunk in enumerate(chunks, start=1):
        found = found or scan.feed(chunk, last=number == len(chunks))
    return found


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in pairwise(points)] or [b""]


# -- which characters


def test_the_forbidden_characters_are_the_c0_controls_and_del_but_tab_lf_and_cr() -> None:
    controls = {chr(c) for c in range(0x80) if unicodedata.category(chr(c)) == "Cc"}
    assert controls - set(ALLOWED_CONTROLS) == FORBIDDEN
    assert len(FORBIDDEN) == 30


def test_a_refusal_names_the_character() -> None:
    assert describe("\x00") == (
        "The request contains a control character (U+0000), which no field accepts."
    )
    assert "(U+007F)" in describe("\x7f")


@given(TRICKY)
def test_decoded_text_is_refused_exactly_when_it_holds_one(text: str) -> None:
    found = in_text(text)
    assert (found is not None) == any(ch in FORBIDDEN for ch in text)
    assert found is None or found == next(ch for ch in text if ch in FORBIDDEN)


def test_tab_newlines_and_other_scripts_pass() -> None:
    assert in_text("two\tcolumns\r\nand lines, Zoë, 東京, \u00a0, \U0001f600") is None


# -- query strings and forms


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"name=a%00b", "\x00"),
        (b"q=%1f", "\x1f"),
        (b"q=%1F&x=1", "\x1f"),
        (b"q=%7f", "\x7f"),
        (b"q=%0B", "\x0b"),
        (b"q=a\x01b", "\x01"),
        (b"q=%09%0A%0d+and+more", None),
        (b"q=%2500", None),  # the text "%00"
        (b"q=%C3%A9%E2%82%AC", None),
        (b"q=100%", None),
    ],
)
def test_urlencoded_text(data: bytes, found: str | None) -> None:
    assert in_urlencoded(data) == found


@given(st.lists(st.tuples(TRICKY, TRICKY), max_size=4))
def test_a_form_is_refused_exactly_when_a_name_or_value_holds_one(
    fields: list[tuple[str, str]],
) -> None:
    data = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields).encode()
    expected = any(ch in FORBIDDEN for pair in fields for text in pair for ch in text)
    assert (in_urlencoded(data) is not None) == expected


@given(st.binary(max_size=40) | TRICKY.map(str.encode))
def test_urlencoded_bytes_are_refused_exactly_when_they_decode_to_one(data: bytes) -> None:
    decoded = unquote_to_bytes(data)
    assert (in_urlencoded(data) is not None) == any(chr(b) in FORBIDDEN for b in decoded)


def test_the_path_and_the_query_string_are_both_looked_at() -> None:
    assert in_target("/api/users/a\x00b", b"") == "\x00"
    assert in_target("/scim/v2/Users", b"filter=userName+eq+%22a%00%22") == "\x00"
    assert in_target("/scim/v2/Users", b"filter=userName+eq+%22a%09%22") is None


# -- JSON


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (rb'{"name": "a\u0000b"}', "\x00"),
        (rb'{"name": "a\u001F"}', "\x1f"),
        (rb'{"name": "a\u007f"}', "\x7f"),
        (b'{"name": "a\x7f"}', "\x7f"),  # DEL is valid JSON unescaped
        (rb'{"name": "bell\b"}', "\b"),
        (rb'{"name": "page\f"}', "\f"),
        (rb'{"a\u0001": 1}', "\x01"),  # keys too
        (rb'["\\\u0000"]', "\x00"),  # an escaped backslash, then NUL
        (rb'{"name": "a\\u0000b"}', None),  # a backslash, then the text u0000
        (rb'["\\\\u0000"]', None),
        (rb'["C:\\bin\\files"]', None),
        (rb'{"text": "tab\t, line\n, return\r, \u0009\u000a\u000D"}', None),
        (rb'{"name": "Zo\u00eb \u00e9t\u00e9 \u2028"}', None),
        (rb'{"x": "\u005cu0000"}', None),  # an escaped backslash written as \u005c
    ],
)
def test_json_text(data: bytes, found: str | None) -> None:
    assert in_json(data) == found


@given(JSON_VALUES)
@example({"k": "\\u0000"})
@example(["\\\x00"])
def test_json_is_refused_exactly_when_a_decoded_string_holds_one(value: Any) -> None:
    expected = holds_forbidden(value)
    for encoded in (
        orjson.dumps(value),
        json.dumps(value).encode(),  # every non-ASCII character escaped
        json.dumps(value, ensure_ascii=False).encode(),
    ):
        assert (in_json(encoded) is not None) == expected, encoded


@given(TRICKY)
@example("\\u0000")
@example("\\\\u0000")
@example("\\u00")
def test_any_escapes_a_client_writes_are_read_as_a_json_parser_reads_them(text: str) -> None:
    data = b'"' + text.encode() + b'"'
    try:
        decoded = orjson.loads(data)
    except orjson.JSONDecodeError:
        return  # not JSON: the face refuses it as such
    assert (in_json(data) is not None) == holds_forbidden(decoded)


# -- multipart forms


def test_a_multipart_field_is_looked_at_and_a_file_is_not() -> None:
    field = multipart(("csrf_token", b"t", None), ("csv", b"email,role\r\na\x00,view", None))
    assert in_multipart_fields(field, BOUNDARY) == "\x00"
    upload = multipart(("csv", b"", None), ("csv_file", b"\x00\x01binary\x7f", "users.csv"))
    assert in_multipart_fields(upload, BOUNDARY) is None
    lines = multipart(("csv", b"email,role\r\n\tb@example.com,view\n", None))
    assert in_multipart_fields(lines, BOUNDARY) is None


def test_a_multipart_fields_name_is_looked_at() -> None:
    body = multipart(("a\x01", b"value", None))
    assert in_multipart_fields(body, BOUNDARY) == "\x01"


def test_a_multipart_body_the_parser_cannot_read_is_left_to_the_face() -> None:
    assert in_multipart_fields(b"\x00 not multipart", BOUNDARY) is None


# -- bodies read in chunks


@given(JSON_VALUES, st.lists(st.integers(min_value=0), max_size=6))
@example({"k": "\x00"}, [7, 8])
@example(["\\\x00"], [3, 4, 5])
def test_a_json_body_in_chunks_is_judged_as_the_whole_body(value: Any, cuts: list[int]) -> None:
    data = json.dumps(value).encode()
    assert scanned(b"application/json", split(data, cuts)) == in_json(data)


@given(
    st.lists(st.tuples(TRICKY, TRICKY), max_size=3), st.lists(st.integers(min_value=0), max_size=6)
)
@example([("k", "\x00")], [3])  # "k=%" and "00"
@example([("k", "\x00")], [4])  # "k=%0" and "0"
def test_a_form_in_chunks_is_judged_as_the_whole_form(
    fields: list[tuple[str, str]], cuts: list[int]
) -> None:
    data = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields).encode()
    assert (scanned(FORM, split(data, cuts)) is None) == (in_urlencoded(data) is None)


@given(TRICKY, st.binary(max_size=20), st.lists(st.integers(min_value=0), max_size=6))
def test_a_multipart_body_in_chunks_is_judged_as_the_whole_body(
    field: str, file: bytes, cuts: list[int]
) -> None:
    data = multipart(("csv", field.encode(), None), ("csv_file", file, "users.csv"))
    assert scanned(MULTIPART, split(data, cuts)) == in_multipart_fields(data, BOUNDARY)


@pytest.mark.parametrize(
    ("content_type", "data"),
    [(FORM, b"a=1&name=x%7Fy"), (b"application/json", rb'{"a": 1, "name": "x\u001fy"}')],
)
def test_an_escape_split_across_one_byte_chunks_is_found(content_type: bytes, data: bytes) -> None:
    assert scanned(content_type, [bytes([b]) for b in data]) is not None


def test_the_content_type_says_how_the_body_is_read() -> None:
    percent = b"name=a%00b"
    assert scanned(b"application/x-www-form-urlencoded; charset=UTF-8", [percent]) == "\x00"
    assert scanned(b"application/json", [percent]) is None  # "%00" is text in JSON
    escaped = rb'{"name": "a\u0000"}'
    assert scanned(b"", [escaped]) == "\x00"  # the faces read any other body as JSON
    # Some faces read JSON whatever the type says: a JSON body sent as a form is JSON to them.
    assert scanned(FORM, [escaped]) == "\x00"
    assert scanned(MULTIPART, [escaped]) == "\x00"
    # A real multipart body's files are not JSON: a path with backslashes is just text.
    upload = multipart(("csv", b"", None), ("csv_file", rb"C:\files\bob \u0000", "a.csv"))
    assert scanned(MULTIPART, [upload]) is None


def test_a_form_naming_a_charset_the_checks_cannot_read_is_refused() -> None:
    assert unscannable_charset(b"multipart/form-data; boundary=X; charset=utf-7")
    assert unscannable_charset(b"application/x-www-form-urlencoded; charset=UTF-16")
    for fine in (b"application/x-www-form-urlencoded; charset=UTF-8", FORM, MULTIPART):
        assert not unscannable_charset(fine)
    assert not unscannable_charset(b"application/json; charset=utf-7")  # JSON is UTF-8
