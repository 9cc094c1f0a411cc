"""The network integration's services in the authorization matrix (tests/authz_cases.py): the
host partner is the network, advertiser B is one of its advertisers (with a network id of its own).

Only the network's own credentials and members reach it: nobody of advertiser A, and nobody
of B either (the network integration is for the network's users); the host's admin may act on
B's users only while B lets its partner manage it, as everywhere in the core.

`NETWORK_ROWS` are run by tests/integration/test_authorization_matrix.py with the other rows.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from tenantry.domain.managed import AdvertiserSpec, ManagedUserSpec
from tenantry.services import accounts, managed_accounts, managed_users
from tenantry.services.accounts import AccountChanges

from authz_cases import (
    ALLOW,
    FORBIDDEN,
    HIDDEN,
    Cell,
    Row,
    _fresh_advertiser,
    expect,
)
from factories import OPERATOR, advertiser_spec, listed_users, managed_user

B_NET = "b-net"
_numbers = itertools.count(1)


def _person(role: str = "member") -> ManagedUserSpec:
    n = next(_numbers)
    return managed_user(
        f"matrix-{n}",
        role=role,
        emails=(f"matrix{n}@example.com",),
        first_name="Matrix",
        last_name=str(n),
    )


def _network_id(c: Cell) -> str:
    return c.world.base.host.id


def _b_in_the_network(c: Cell) -> None:
    """B (or the row's fresh advertiser) gets a network id, as the operator."""
    if c.target.id_from_network is None:
        id_from_network = f"{B_NET}-{next(_numbers)}"
        changes = AccountChanges(id_from_network=id_from_network)
        accounts.update_account(c.ctx, OPERATOR, c.target.id, changes)
        c.target.id_from_network = id_from_network


def _b(c: Cell) -> str:
    """B's network id."""
    assert c.target.id_from_network is not None
    return c.target.id_from_network


def _user_of_b(c: Cell) -> str:
    _b_in_the_network(c)
    person = _person()
    managed_users.upsert_advertiser_user(c.ctx, OPERATOR, _network_id(c), _b(c), person)
    assert person.id_from_network is not None
    return person.id_from_network


def _advertiser_spec(c: Cell) -> AdvertiserSpec:
    _b_in_the_network(c)
    return replace(advertiser_spec(_b(c)), name=f"Renamed B {next(_numbers)}")


# Calls on the network itself do not involve B: B's members are not the network's, and the
# host's admin acts whatever B's can_partner_manage says.
NETWORK_LEVEL = {"view": FORBIDDEN, "manage": FORBIDDEN, "b_admin": FORBIDDEN}

NETWORK_ROWS: tuple[Row, ...] = (
    Row(
        managed_users.get_network,
        expect(**NETWORK_LEVEL, unmanaged=ALLOW),
        call=lambda c: managed_users.get_network(c.ctx, c.actor, _network_id(c)),
        writes=False,
    ),
    Row(
        managed_users.replace_network_users,
        expect(**NETWORK_LEVEL, unmanaged=ALLOW),
        call=lambda c: managed_users.replace_network_users(
            c.ctx, c.actor, _network_id(c), listed_users(_person())
        ),
    ),
    Row(
        managed_users.list_advertiser_users,
        expect(b_admin=FORBIDDEN),
        call=lambda c: managed_users.list_advertiser_users(c.ctx, c.actor, _network_id(c), _b(c)),
        prepare=_b_in_the_network,
        writes=False,
        reveals=lambda found, c: c.world.base.b_admin.id in {m.user.id for m in found},
    ),
    Row(
        managed_users.get_advertiser_user,
        expect(b_admin=FORBIDDEN),
        call=lambda c: managed_users.get_advertiser_user(
            c.ctx, c.actor, _network_id(c), _b(c), c.prepared
        ),
        prepare=_user_of_b,
        writes=False,
        reveals=lambda member, c: member.user.id_from_network == c.prepared,
    ),
    Row(
        managed_users.upsert_advertiser_user,
        expect(b_admin=FORBIDDEN),
        call=lambda c: managed_users.upsert_advertiser_user(
            c.ctx, c.actor, _network_id(c), _b(c), _person()
        ),
        prepare=_b_in_the_network,
    ),
    Row(
        managed_users.delete_advertiser_user,
        expect(b_admin=FORBIDDEN),
        call=lambda c: managed_users.delete_advertiser_user(
            c.ctx, c.actor, _network_id(c), _b(c), c.prepared
        ),
        prepare=_user_of_b,
    ),
    Row(
        managed_accounts.list_advertisers,
        # A list of the network's advertisers: B is left out where the actor may not read it.
        expect(**NETWORK_LEVEL, unmanaged=HIDDEN),
        call=lambda c: managed_accounts.list_advertisers(c.ctx, c.actor, _network_id(c)),
        prepare=_b_in_the_network,
        writes=False,
        reveals=lambda views, c: c.target.id in {v.account.id for v in views},
    ),
    Row(
        managed_accounts.get_advertiser,
        expect(b_admin=FORBIDDEN),
        call=lambda c: managed_accounts.get_advertiser(c.ctx, c.actor, _network_id(c), _b(c)),
        prepare=_b_in_the_network,
        writes=False,
        reveals=lambda view, c: view.account.id == c.target.id,
    ),
    Row(
        managed_accounts.upsert_advertiser,
        # Renaming an account as a whole is its parent's to do, as accounts.update_account.
        expect(b_admin=FORBIDDEN, unmanaged=ALLOW),
        call=lambda c: managed_accounts.upsert_advertiser(
            c.ctx, c.actor, _network_id(c), c.prepared
        ),
        prepare=_advertiser_spec,
    ),
    Row(
        managed_accounts.delete_advertiser,
        # Only the parent deletes an account, as accounts.delete_account.
        expect(b_admin=FORBIDDEN, unmanaged=ALLOW),
        call=lambda c: managed_accounts.delete_advertiser(c.ctx, c.actor, _network_id(c), _b(c)),
        prepare=_b_in_the_network,
        target=_fresh_advertiser,
    ),
)
