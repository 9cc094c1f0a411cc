"""The rules on a network's users and advertisers that hold whatever face builds the command:
what each value may be, that a set names each id and address once, and how a stored user
compares with a command."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.domain import managed
from tenantry.domain.errors import ErrorCode
from tenantry.domain.managed import BadValue
from tenantry.domain.users import NotificationEmail, User

from factories import managed_user

PROPERTY = settings(database=None, max_examples=200)


@pytest.mark.parametrize(
    "phone", ["+18056035555", "8056035555", "805-603-5555", "(805) 603 5555", "+44 20 7946 0958"]
)
def test_phone_numbers_are_kept_as_written(phone: str) -> None:
    assert managed.clean_phone(f" {phone} ") == phone


@pytest.mark.parametrize("phone", ["555-1234", "0123456789", "+0123", "12", "", "phone"])
def test_what_is_no_phone_number(phone: str) -> None:
    with pytest.raises(BadValue) as refused:
        managed.clean_phone(phone)
    assert refused.value.message == managed.INVALID


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  ", managed.BLANK),
        ("x" * 256, "is too long (maximum is 255 characters)"),
        ("a\x00b", managed.INVALID),
        ("a\u0085b", managed.INVALID),
    ],
)
def test_identifiers(text: str, message: str) -> None:
    with pytest.raises(BadValue) as refused:
        managed.clean_identifier(text)
    assert refused.value.message == message


@given(st.text(min_size=1, max_size=300))
@PROPERTY
def test_a_clean_identifier_is_a_valid_one(text: str) -> None:
    try:
        value = managed.clean_identifier(text)
    except BadValue:
        return
    assert managed.is_valid_identifier(value)
    assert managed.clean_identifier(value) == value


def test_addresses_are_lower_cased_and_checked() -> None:
    assert managed.clean_address(" Ann@Example.COM ") == "ann@example.com"
    with pytest.raises(BadValue) as refused:
        managed.clean_address("not an address")
    assert (refused.value.message, refused.value.code) == (managed.INVALID, ErrorCode.INVALID_EMAIL)


def test_lines_have_a_length_and_no_control_characters() -> None:
    assert managed.clean_line("  Pat ", 3) == "Pat"
    for text, message in (
        ("Pata", "is too long (maximum is 3 characters)"),
        ("a\tb", "is invalid"),
    ):
        with pytest.raises(BadValue) as refused:
            managed.clean_line(text, 3)
        assert refused.value.message == message
    with pytest.raises(BadValue):
        managed.clean_required_line(" ", 3)


def test_a_set_names_each_id_and_address_once() -> None:
    specs = [
        managed_user("a", path=("users", 0)),
        managed_user("a", emails=("b@example.com",), path=("users", 1)),
        managed_user("c", emails=("a@example.com",), path=("users", 2)),
    ]
    assert managed.duplicates(specs) == [
        managed.Problem(("users", 1, "id_from_network"), managed.LISTED_TWICE),
        managed.Problem(("users", 2, "email_settings", 0, "email_address"), managed.TAKEN),
    ]


def test_a_user_made_elsewhere_is_described_by_their_split_display_name() -> None:
    user = User(id="u", email="ada@example.com", name="Ada King Lovelace", id_from_network="ada")
    assert managed.first_and_last_name(user) == ("Ada", "King Lovelace")
    assert managed.notification_addresses(user) == [NotificationEmail("ada@example.com")]
    spec = managed_user(
        "ada", emails=("ada@example.com",), first_name="Ada", last_name="King Lovelace"
    )
    assert managed.is_described_by(user, spec)
    assert not managed.is_described_by(user, managed_user("ada", emails=("ada@example.com",)))
