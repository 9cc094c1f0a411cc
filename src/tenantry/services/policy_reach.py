"""Where an actor's rights can come from, in a form storage can test inside a read.

The policy decides in Python, from an account's chain (the account and its ancestors), what
an actor may see there (`policy.grant_in`). Some reads would otherwise fetch rows the policy
then throws away: every membership of each person listed, in the accounts of every partner
the person works for, as many as others made, however few the caller may see.

`grant_in` finds a grant in an account only where the account or one of its ancestors is a
*root* of the actor: an account the person holds an active membership in, or a credential's
home account (a token acts as its person, and still only from its home). So a read may leave
out, before the policy runs, every row of an account none of whose chain is a root: the
policy would refuse each one. What is left is decided by the policy exactly as before. The
narrowing must only ever keep more than the policy allows, never less:
`tests/integration/test_reach.py` checks that on a tree of every shape, and
`test_reach_differential.py` the answers on random ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the context's ports name `Reach`
    from tenantry.services.context import Actor


@dataclass(frozen=True, slots=True)
class Reach:
    """The roots of an actor's rights: an account is within reach when it, its parent or its
    grandparent is one (accounts nest at most three deep: partner, agency, advertiser)."""

    member_id: str | None = None
    """The person whose active memberships are roots."""
    home_account_id: str | None = None
    """A credential's home account, the one root."""


def reach_of(actor: Actor) -> Reach | None:
    """The actor's roots; None for the operator, whose rights reach every account."""
    if actor.is_system:
        return None
    if actor.home_account_id is not None:
        return Reach(home_account_id=actor.home_account_id)
    return Reach(member_id=actor.user_id)
