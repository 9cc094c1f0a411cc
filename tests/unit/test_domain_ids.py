"""Public ids, opaque tokens and how their secrets are kept and compared."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.domain import ids
from tenantry.domain.credentials import (
    ACCESS_TOKEN_PREFIX,
    API_TOKEN_PREFIX,
    validate_client_id,
)
from tenantry.domain.errors import InvalidInput
from tenantry.domain.ids import (
    hash_secret,
    is_account_id,
    is_user_id,
    new_account_id,
    new_token,
    new_user_id,
    secret_matches,
    split_token,
)
from tenantry.domain.roles import validate_role_key

PROPERTY = settings(database=None, max_examples=200)
ACCOUNT_ID = re.compile(r"\A[A-Za-z0-9]{8}\Z")


@PROPERTY
@given(st.integers())  # each example draws a fresh id
def test_account_ids_are_8_base62_characters(draw: int) -> None:
    del draw
    account_id = new_account_id()
    assert ACCOUNT_ID.match(account_id)
    assert is_account_id(account_id)


def test_account_ids_do_not_repeat() -> None:
    drawn = {new_account_id() for _ in range(2000)}
    assert len(drawn) == 2000


def test_account_ids_use_the_whole_alphabet() -> None:
    seen = set("".join(new_account_id() for _ in range(500)))
    assert seen <= set(ids.BASE62)
    assert len(seen) > 55  # 4000 draws over 62 symbols: all but a few appear


@pytest.mark.parametrize("value", ["wW58k7FQ", "00000000", "zzzzzzzz", "AbCdEfGh"], ids=lambda v: v)
def test_is_account_id_accepts_the_sample_shape(value: str) -> None:
    assert is_account_id(value)


@pytest.mark.parametrize(
    "value", ["", "wW58k7F", "wW58k7FQx", "wW58k7F-", "wW58k7F ", " wW58k7F", "wW58k7F\n"]
)
def test_is_account_id_refuses_other_shapes(value: str) -> None:
    assert not is_account_id(value)


def _account_id_with_newline() -> None:
    assert not is_account_id("wW58k7FQ\n")


def _client_id_with_newline() -> None:
    with pytest.raises(InvalidInput):
        validate_client_id("A" * 20 + "\n")  # 21 characters for a String(20) column


def _role_key_with_newline() -> None:
    with pytest.raises(InvalidInput):
        validate_role_key("a" * 40 + "\n")  # 41 characters for a String(40) column


@pytest.mark.parametrize(
    "check",
    [_account_id_with_newline, _client_id_with_newline, _role_key_with_newline],
    ids=["account_id", "client_id", "role_key"],
)
def test_a_trailing_newline_is_not_part_of_a_valid_identifier(check: Callable[[], None]) -> None:
    check()


def test_user_ids_are_uuids() -> None:
    user_id = new_user_id()
    assert str(uuid.UUID(user_id)) == user_id
    assert is_user_id(user_id)
    assert not is_user_id("not-a-uuid")


# -- secrets and tokens ------------------------------------------------------------------------


def test_hash_secret_is_a_sha256_hex_digest() -> None:
    assert hash_secret("s3cret") == hashlib.sha256(b"s3cret").hexdigest()
    assert len(hash_secret("x")) == 64


@PROPERTY
@given(st.text(min_size=1, max_size=64), st.text(min_size=1, max_size=64))
def test_secret_matches_only_its_own_digest(secret: str, other: str) -> None:
    assert secret_matches(secret, hash_secret(secret))
    assert secret_matches(other, hash_secret(secret)) == (other == secret)


def test_secret_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(ids.hmac, "compare_digest", spy)
    assert not secret_matches("wrong", hash_secret("right"))
    assert calls == [(hash_secret("wrong"), hash_secret("right"))]


@pytest.mark.parametrize("prefix", [API_TOKEN_PREFIX, ACCESS_TOKEN_PREFIX])
def test_new_token_splits_back_into_key_and_secret(prefix: str) -> None:
    token, key, digest = new_token(prefix)
    assert token.startswith(prefix + "_")
    parts = split_token(token, prefix)
    assert parts is not None
    found_key, secret = parts
    assert found_key == key
    assert secret_matches(secret, digest)
    assert secret not in digest  # only the digest is ever stored
    assert re.fullmatch(r"[0-9a-f]{16}", key)


def test_tokens_are_unique_and_keys_public() -> None:
    tokens = [new_token(API_TOKEN_PREFIX) for _ in range(200)]
    assert len({t for t, _, _ in tokens}) == 200
    assert len({k for _, k, _ in tokens}) == 200


def test_a_token_of_one_kind_does_not_split_as_the_other() -> None:
    token, _, _ = new_token(API_TOKEN_PREFIX)
    assert split_token(token, ACCESS_TOKEN_PREFIX) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "tnt",
        "tnt_",
        "tnt__secret",
        "tnt_key_",
        "tnt_key",
        "TNT_key_secret",
        "xtnt_key_secret",
        "tnt_key_" + "s" * 600,
    ],
)
def test_split_token_refuses_malformed_tokens(token: str) -> None:
    assert split_token(token, API_TOKEN_PREFIX) is None


def test_split_token_keeps_underscores_in_the_secret_part() -> None:
    assert split_token("tnt_key_se_cret", API_TOKEN_PREFIX) == ("key", "se_cret")


@PROPERTY
@given(st.sampled_from([API_TOKEN_PREFIX, ACCESS_TOKEN_PREFIX]), st.text(max_size=80))
def test_split_token_never_raises(prefix: str, token: str) -> None:
    parts = split_token(token, prefix)
    if parts is not None:
        key, secret = parts
        assert key
        assert secret
        assert token == f"{prefix}_{key}_{secret}"


# -- API account names -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "client1", "A" * 20])
def test_client_ids_of_letters_and_digits(name: str) -> None:
    assert validate_client_id(name) == name


@pytest.mark.parametrize("name", ["", "A" * 21, "my client", "my-client", "my_client", "clïent"])
def test_client_ids_refuse_other_shapes(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_client_id(name)
    assert caught.value.field == "client_id"
