"""Roles: a predefined catalogue plus custom roles per account.

A role grants capabilities grouped by section, each at an access level. The services translate
what an action needs into a capability check, so a custom role works like a predefined one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from tenantry.domain.accounts import AccountKind
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput

ADMIN = "admin"
_ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class AccessLevel(IntEnum):
    BLOCKED = 0
    READ = 1
    ALL = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> AccessLevel:
        try:
            return cls[value.upper()]
        except KeyError:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT,
                "Access levels are blocked, read or all.",
                field="capabilities",
            ) from None


# What the services ask of a role. Each maps to one capability of the catalogue.
class Need:
    READ_ACCOUNT = ("user_management", "users", AccessLevel.READ)
    MANAGE_USERS = ("user_management", "users", AccessLevel.ALL)
    MANAGE_ADMINS = ("user_management", "admins", AccessLevel.ALL)
    MANAGE_SETTINGS = ("account", "settings", AccessLevel.ALL)
    READ_API_ACCESS = ("account", "api_access", AccessLevel.READ)
    MANAGE_API_ACCESS = ("account", "api_access", AccessLevel.ALL)
    READ_CHILD_ACCOUNTS = ("account", "child_accounts", AccessLevel.READ)
    MANAGE_CHILD_ACCOUNTS = ("account", "child_accounts", AccessLevel.ALL)
    READ_AUDIT = ("security", "audit_log", AccessLevel.READ)


Capabilities = Mapping[str, Mapping[str, AccessLevel]]


# The name each API dialect gives a role, by the dialect's label in the catalogue (a face
# knows its own label); a dialect with no name for the role shows its key.
DialectNames = Mapping[str, str]


@dataclass(slots=True)
class Role:
    key: str
    display_name: str
    capabilities: dict[str, dict[str, AccessLevel]]
    account_kinds: frozenset[AccountKind] = frozenset(AccountKind)
    unrestricted_scope: bool = False
    names: DialectNames = field(default_factory=dict)
    account_id: str | None = None  # None for predefined roles

    @property
    def is_custom(self) -> bool:
        return self.account_id is not None

    def level(self, section: str, capability: str) -> AccessLevel:
        return self.capabilities.get(section, {}).get(capability, AccessLevel.BLOCKED)

    def allows(self, need: tuple[str, str, AccessLevel]) -> bool:
        section, capability, level = need
        return self.level(section, capability) >= level

    def exceeds(self, other: Role) -> bool:
        """Whether this role grants any capability at a higher level than `other` does."""
        return any(
            level > other.level(section, capability)
            for section, caps in self.capabilities.items()
            for capability, level in caps.items()
        )

    def limited_to(self, ceiling: Role) -> Role:
        """This role with no capability above `ceiling`'s: what a credential acting with
        this role as a member holding `ceiling` may do. One of the two when either is within
        the other, else a role of the lower level of each capability."""
        if not self.exceeds(ceiling):
            return self
        if not ceiling.exceeds(self):
            return ceiling
        return Role(
            key=self.key,
            display_name=f"{self.display_name} (limited to {ceiling.display_name})",
            capabilities={
                section: {
                    name: min(level, ceiling.level(section, name)) for name, level in caps.items()
                }
                for section, caps in self.capabilities.items()
            },
            account_kinds=self.account_kinds & ceiling.account_kinds,
            unrestricted_scope=self.unrestricted_scope,
            names=self.names,
            account_id=self.account_id,
        )

    @property
    def is_admin_like(self) -> bool:
        """Counts toward "the last admin": a role that can manage admins."""
        return self.allows(Need.MANAGE_ADMINS)

    def applies_to(self, kind: AccountKind) -> bool:
        return kind in self.account_kinds


def is_role_key(key: str) -> bool:
    return _ROLE_KEY.fullmatch(key) is not None


def validate_role_key(key: str) -> str:
    if not _ROLE_KEY.fullmatch(key):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "A role key is 2 to 40 lower-case letters, digits or underscores, starting with a "
            "letter.",
            field="key",
        )
    return key


MAX_CUSTOM_ROLES = 100
"""Custom roles per account: every list of an account's roles (the faces' role lists, SCIM
groups, a tenant's available roles) stays bounded."""


def check_room_for_custom_role(custom_roles: int) -> None:
    """Refuse a new custom role to an account that has `custom_roles` already at the cap."""
    if custom_roles >= MAX_CUSTOM_ROLES:
        raise Conflict(
            ErrorCode.CONFLICT,
            f"An account has at most {MAX_CUSTOM_ROLES} custom roles: delete one first.",
            field="key",
        )


def parse_capabilities(
    raw: Mapping[str, Mapping[str, str]], known: Mapping[str, Iterable[str]]
) -> dict[str, dict[str, AccessLevel]]:
    """Validate a section → capability → level mapping against the catalogue's sections."""
    result: dict[str, dict[str, AccessLevel]] = {}
    for section, caps in raw.items():
        if section not in known:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT,
                f"Unknown capability section {section!r}.",
                field="capabilities",
            )
        allowed = set(known[section])
        result[section] = {}
        for name, level in caps.items():
            if name not in allowed:
                raise InvalidInput(
                    ErrorCode.INVALID_INPUT,
                    f"Unknown capability {section}.{name}.",
                    field="capabilities",
                )
            result[section][name] = AccessLevel.parse(level)
    return result


class RoleCatalogue:
    """The predefined roles, looked up by key or by the name a face uses."""

    def __init__(self, sections: Mapping[str, Iterable[str]], roles: Iterable[Role]) -> None:
        self.sections: dict[str, tuple[str, ...]] = {s: tuple(c) for s, c in sections.items()}
        self._by_key: dict[str, Role] = {}
        self._by_dialect: dict[str, dict[str, str]] = {}
        for role in roles:
            self._by_key[role.key] = role
            for dialect, name in role.names.items():
                if name:
                    self._by_dialect.setdefault(dialect, {})[name.lower()] = role.key
        if ADMIN not in self._by_key:
            raise ValueError("the role catalogue must define the 'admin' role")

    @property
    def admin(self) -> Role:
        return self._by_key[ADMIN]

    def __iter__(self) -> Iterator[Role]:
        return iter(self._by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def find(self, key: str) -> Role | None:
        return self._by_key.get(key)

    def key_for(self, dialect: str, name: str) -> str | None:
        """The role key a dialect's role name stands for (case-insensitive), or None."""
        return self._by_dialect.get(dialect, {}).get(name.lower())

    def face_name(self, dialect: str, role: Role) -> str:
        """How a dialect shows a role: its own name, or the key where it has none."""
        return role.names.get(dialect) or role.key

    def names_in(self, dialect: str) -> list[str]:
        """The names a dialect has for the predefined roles, in catalogue order."""
        return [name for role in self if (name := role.names.get(dialect))]

    @property
    def admin_like_keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self if r.is_admin_like)
