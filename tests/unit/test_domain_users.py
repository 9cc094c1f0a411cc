"""E-mail addresses and usernames, as the AppsFlyer document describes them."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.users import (
    MAX_EMAIL_LENGTH,
    MAX_USERNAME_LENGTH,
    User,
    is_valid_email,
    normalize_email,
    split_name,
    validate_username,
)

# No example database: the runs stay reproducible and leave nothing in the work tree.
PROPERTY = settings(database=None, max_examples=200)

_ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
_atoms = st.text(alphabet=_ATEXT, min_size=1, max_size=10)
_local_parts = st.lists(_atoms, min_size=1, max_size=3).map(".".join)
_labels = st.from_regex(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?\Z")
_domains = st.lists(_labels, min_size=2, max_size=4).map(".".join)
valid_emails = st.builds(lambda local, domain: f"{local}@{domain}", _local_parts, _domains)
padding = st.text(alphabet=" \t\r\n", max_size=3)


# -- e-mail addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("dan@example.com", "dan@example.com"),
        ("  Dan.Smith@Example.COM ", "dan.smith@example.com"),
        ("\tX+tag@sub.example.org\n", "x+tag@sub.example.org"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_normalize_email_trims_and_lower_cases(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


def test_seed_002_sample_address_is_accepted() -> None:
    assert normalize_email("my_company@my_company.com ") == "my_company@my_company.com"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "plainaddress",
        "@example.com",
        "dan@",
        "dan@example",  # a single DNS label
        "dan@@example.com",
        "dan smith@example.com",
        "dan.@example.com",
        ".dan@example.com",
        "dan..smith@example.com",
        "dan@-example.com",
        "dan@example-.com",
        "dan@example..com",
        "dan@example.com.",
        "dän@example.com",
        "dan@exämple.com",
        "<dan@example.com>",
        "Dan <dan@example.com>",
        "dan@example.com, eve@example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_normalize_email_refuses_what_is_not_an_address(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_email(raw)
    assert caught.value.code is ErrorCode.INVALID_EMAIL
    assert caught.value.message == "Invalid email address."
    assert caught.value.field == "email"
    assert not is_valid_email(raw)


@pytest.mark.parametrize("raw", [None, 42, b"dan@example.com", ["dan@example.com"]])
def test_normalize_email_refuses_non_strings(raw: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_email(raw)
    assert caught.value.code is ErrorCode.INVALID_EMAIL


def test_email_length_limit_is_inclusive() -> None:
    domain = "@example.com"
    longest = "a" * (MAX_EMAIL_LENGTH - len(domain)) + domain
    assert len(longest) == MAX_EMAIL_LENGTH
    assert normalize_email(longest) == longest
    with pytest.raises(InvalidInput):
        normalize_email("a" + longest)


def test_non_ascii_letters_that_lower_case_to_ascii_are_refused() -> None:
    with pytest.raises(InvalidInput):
        normalize_email("\u212aelvin@example.com")


@PROPERTY
@given(valid_emails, padding, padding)
def test_valid_emails_round_trip(email: str, before: str, after: str) -> None:
    normalized = normalize_email(before + email + after)
    assert normalized == email.lower()
    assert is_valid_email(email)


@PROPERTY
@given(st.one_of(valid_emails, st.text(max_size=40)))
def test_normalize_email_is_idempotent(raw: str) -> None:
    try:
        once = normalize_email(raw)
    except InvalidInput:
        return
    assert normalize_email(once) == once
    assert once == once.strip().lower()


@PROPERTY
@given(st.text(max_size=40))
def test_accepted_addresses_are_plain_ascii_with_one_at(raw: str) -> None:
    try:
        email = normalize_email(raw)
    except InvalidInput:
        return
    assert email.isascii()
    assert email.count("@") == 1
    assert "." in email.split("@")[1]


# -- usernames ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dan Smith", "Dan Smith"),
        ("  Demi Smith  ", "Demi Smith"),
        ("R2-D2_v.1", "R2-D2_v.1"),
        ("`quoted` [team] (lead)", "`quoted` [team] (lead)"),
        ("José Müller", "José Müller"),
        ("田中 太郎", "田中 太郎"),
        ("a" * MAX_USERNAME_LENGTH, "a" * MAX_USERNAME_LENGTH),
    ],
)
def test_username_allows_letters_digits_spaces_and_seed_punctuation(
    raw: str, expected: str
) -> None:
    assert validate_username(raw) == expected


@pytest.mark.parametrize("char", [*"@!#$%^&*+=/\\|:;,?<>{}~'\"\t\n", "\u00a0"])
def test_username_refuses_other_characters(char: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_username(f"Dan{char}Smith")
    assert caught.value.code is ErrorCode.INVALID_USERNAME
    assert caught.value.message == "Invalid characters were used in the username."
    assert caught.value.field == "username"


@pytest.mark.parametrize("raw", ["", "   "])
def test_blank_username_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_username(raw)
    assert caught.value.code is ErrorCode.INVALID_USERNAME


def test_username_over_100_characters_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_username("a" * (MAX_USERNAME_LENGTH + 1))
    assert caught.value.code is ErrorCode.USERNAME_TOO_LONG
    assert caught.value.message == "The username exceeded the 100-character limit."


def test_surrounding_spaces_do_not_count_toward_the_limit() -> None:
    name = "b" * MAX_USERNAME_LENGTH
    assert validate_username(f"  {name}  ") == name


_username_chars = st.sampled_from(string.ascii_letters + string.digits + " .-_`[]()")


@PROPERTY
@given(st.text(alphabet=_username_chars, min_size=1, max_size=MAX_USERNAME_LENGTH))
def test_every_name_of_allowed_characters_is_accepted_stripped(raw: str) -> None:
    if not raw.strip():
        return
    assert validate_username(raw) == raw.strip()


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dan Smith", ("Dan", "Smith")),
        ("Dan", ("Dan", None)),
        ("  Dan   van Smith ", ("Dan", "van Smith")),
        ("", (None, None)),
    ],
)
def test_split_name(name: str, expected: tuple[str | None, str | None]) -> None:
    assert split_name(name) == expected


def test_display_name_falls_back_to_parts_then_email() -> None:
    assert User(id="u", email="d@example.com", name="Dan").display_name == "Dan"
    parts = User(id="u", email="d@example.com", first_name="Dan", last_name="Smith")
    assert parts.display_name == "Dan Smith"
    assert User(id="u", email="d@example.com").display_name == "d@example.com"
