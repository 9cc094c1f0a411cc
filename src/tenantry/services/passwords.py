"""Passwords: Argon2 hashes and the strength rules a new password must meet."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from tenantry.domain.errors import ErrorCode, InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256


class Argon2Hasher:
    def __init__(self, *, time_cost: int = 3, memory_cost: int = 65_536) -> None:
        self._hasher = _Argon2(time_cost=time_cost, memory_cost=memory_cost)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def check_strength(password: str, *, email: str = "") -> None:
    """At least 12 characters, three kinds of character, and not the e-mail address."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    kinds = sum(
        any(test(ch) for ch in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if kinds < 3:
        problems.append("three of: lower-case, upper-case, digits, symbols")
    if email and email.split("@")[0].lower() in password.lower():
        problems.append("not your e-mail address")
    if problems:
        raise InvalidInput(
            ErrorCode.WEAK_PASSWORD,
            "The password needs " + ", ".join(problems) + ".",
            field="password",
        )


def generate_password(length: int = 20) -> str:
    """A random password that meets the strength rules (for one-time admin logins)."""
    alphabet = string.ascii_letters + string.digits + "-_.!"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        try:
            check_strength(candidate)
        except InvalidInput:
            continue
        return candidate
