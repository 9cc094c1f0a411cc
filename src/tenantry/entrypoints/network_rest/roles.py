"""Role names of the network integration: Super, Manager, Member and Observer, as the role
catalogue gives them under this face's label. The services see role keys only: a name is
turned into its key on the way in, a key into its name on the way out, and the core's
"unknown role" problems are told with the names this face takes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tenantry.domain.errors import ErrorCode
from tenantry.domain.managed import InvalidNetworkInput, Problem
from tenantry.domain.roles import Role, RoleCatalogue

DIALECT = "invoca"
# What a name this face does not know stands for: no role has this key, so the core reports
# an unknown role at the user's `role`, among the call's other problems.
UNKNOWN = ""


def role_key(catalogue: RoleCatalogue, name: str | None) -> str:
    """The key a role name stands for (case-insensitive); no name is Super, the admin."""
    if name is None:
        return catalogue.admin.key
    return catalogue.key_for(DIALECT, name) or UNKNOWN


def role_name(catalogue: RoleCatalogue, role: Role) -> str:
    """The name this face shows a role by: its own, or the key where it has none."""
    return catalogue.face_name(DIALECT, role)


@contextmanager
def named_roles(catalogue: RoleCatalogue) -> Iterator[None]:
    """Tell the unknown roles of the problems raised inside with the names this face takes."""
    try:
        yield
    except InvalidNetworkInput as error:
        if not any(p.code is ErrorCode.UNKNOWN_ROLE for p in error.problems):
            raise
        allowed = f"must be one of {', '.join(catalogue.names_in(DIALECT))}"
        raise InvalidNetworkInput(
            [
                Problem(p.path, allowed, p.code) if p.code is ErrorCode.UNKNOWN_ROLE else p
                for p in error.problems
            ]
        ) from None
