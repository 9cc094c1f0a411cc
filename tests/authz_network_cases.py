"""The network integration's services in the authorization matrix (tests/authz_cases.py): the
host partner is the network, advertiser B is one of its advertisers (with a network id of its own).

Only the network's own credentials and members reach it: nobody of advertiser A, and nobody
of B either (the network integration is for the network's users); the host's admin may act on
B's users only while B lets its partner manage it, as everywhere in the core.

`NETWORK_ROWS` are run by tests/integration/test_authorization_matrix.py with the other rows.
"""

from __future__ import annotations

import itertools
from typing import Any

from tenantry.services import accounts, network, network_advertisers
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
from factories import OPERATOR

B_NET = "b-net"
_numbers = itertools.count(1)


def _person(role: str = "Member") -> dict[str, Any]:
    n = next(_numbers)
    return {
        "id_from_network": f"matrix-{n}",
        "email_settings": [
            {"email_address": f"matrix{n}@example.com", "use_for_notifications": True}
        ],
        "first_name": "Matrix",
        "last_name": str(n),
        "role": role,
    }


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
    network.upsert_advertiser_user(c.ctx, OPERATOR, _network_id(c), _b(c), person)
    user_id: str = person["id_from_network"]
    return user_id


def _advertiser_body(c: Cell) -> dict[str, Any]:
    _b_in_the_network(c)
    return {"name": f"Renamed B {next(_numbers)}", "sites": [{"id_from_network": "1"}]}


# Calls on the network itself do not involve B: B's members are not the network's, and the
# host's admin acts whatever B's can_partner_manage says.
NETWORK_LEVEL = {"view": FORBIDDEN, "manage": FORBIDDEN, "b_admin": FORBIDDEN}

NETWORK_ROWS: tuple[Row, ...] = (
    Row(
        network.get_network,
        expect(**NETWORK_LEVEL, unmanaged=ALLOW),
        call=lambda c: network.get_network(c.ctx, c.actor, _network_id(c)),
        writes=False,
    ),
    Row(
        network.replace_network_users,
        expect(**NETWORK_LEVEL, unmanaged=ALLOW),
        call=lambda c: network.replace_network_users(c.ctx, c.actor, _network_id(c), [_person()]),
    ),
    Row(
        network.list_advertiser_users,
        expect(b_admin=FORBIDDEN),
        call=lambda c: network.list_advertiser_users(c.ctx, c.actor, _network_id(c), _b(c)),
        prepare=_b_in_the_network,
        writes=False,
        reveals=lambda found, c: c.world.base.b_admin.id in {m.user.id for m in found},
    ),
    Row(
        network.get_advertiser_user,
        expect(b_admin=FORBIDDEN),
        call=lambda c: network.get_advertiser_user(
            c.ctx, c.actor, _network_id(c), _b(c), c.prepared
        ),
        prepare=_user_of_b,
        writes=False,
        reveals=lambda member, c: member.user.id_from_network == c.prepared,
    ),
    Row(
        network.upsert_advertiser_user,
        expect(b_admin=FORBIDDEN),
        call=lambda c: network.upsert_advertiser_user(
            c.ctx, c.actor, _network_id(c), _b(c), _person()
        ),
        prepare=_b_in_the_network,
    ),
    Row(
        network.delete_advertiser_user,
        expect(b_admin=FORBIDDEN),
        call=lambda c: network.delete_advertiser_user(
            c.ctx, c.actor, _network_id(c), _b(c), c.prepared
        ),
        prepare=_user_of_b,
    ),
    Row(
        network_advertisers.list_advertisers,
        # A list of the network's advertisers: B is left out where the actor may not read it.
        expect(**NETWORK_LEVEL, unmanaged=HIDDEN),
        call=lambda c: network_advertisers.list_advertisers(c.ctx, c.actor, _network_id(c)),
        prepare=_b_in_the_network,
        writes=False,
        reveals=lambda views, c: c.target.id in {v.account.id for v in views},
    ),
    Row(
        network_advertisers.get_advertiser,
        expect(b_admin=FORBIDDEN),
        call=lambda c: network_advertisers.get_advertiser(c.ctx, c.actor, _network_id(c), _b(c)),
        prepare=_b_in_the_network,
        writes=False,
        reveals=lambda view, c: view.account.id == c.target.id,
    ),
    Row(
        network_advertisers.upsert_advertiser,
        # Renaming an account as a whole is its parent's to do, as accounts.update_account.
        expect(b_admin=FORBIDDEN, unmanaged=ALLOW),
        call=lambda c: network_advertisers.upsert_advertiser(
            c.ctx, c.actor, _network_id(c), c.prepared, advertiser_id=_b(c)
        ),
        prepare=_advertiser_body,
    ),
    Row(
        network_advertisers.delete_advertiser,
        # Only the parent deletes an account, as accounts.delete_account.
        expect(b_admin=FORBIDDEN, unmanaged=ALLOW),
        call=lambda c: network_advertisers.delete_advertiser(c.ctx, c.actor, _network_id(c), _b(c)),
        prepare=_b_in_the_network,
        target=_fresh_advertiser,
    ),
)
