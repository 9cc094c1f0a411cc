"""Accounts' chains read with others already known (`SqlAccountRepository.chains(known=)`)
are the chains the recursive read gives, on every shape of tree, cycles included: the plain
read of the accounts' own rows, completed from what is known, and the rest read recursively."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from tenantry.domain.accounts import Account, AccountKind
from tenantry.services.context import ServiceContext
from tenantry.storage.tables import accounts

from factories import make_account, statements


def _tree(ctx: ServiceContext) -> dict[str, Account]:
    """Two partners; under the first an agency with two advertisers and an advertiser of its
    own; under the second one advertiser."""
    partner = make_account(ctx, kind=AccountKind.PARTNER)
    agency = make_account(ctx, parent=partner, kind=AccountKind.AGENCY)
    other_partner = make_account(ctx, kind=AccountKind.PARTNER)
    return {
        "partner": partner,
        "agency": agency,
        "client": make_account(ctx, parent=agency),
        "second_client": make_account(ctx, parent=agency),
        "direct": make_account(ctx, parent=partner),
        "other_partner": other_partner,
        "elsewhere": make_account(ctx, parent=other_partner),
    }


def _both_ways(
    ctx: ServiceContext, ids: set[str], known_from: str
) -> tuple[dict[str, list[Account]], dict[str, list[Account]]]:
    with ctx.uow(readonly=True) as uow:
        known = uow.accounts.chain(known_from)
        return uow.accounts.chains(ids), uow.accounts.chains(ids, known=known)


def test_chains_completed_from_a_known_chain_are_the_recursive_ones(
    ctx: ServiceContext,
) -> None:
    tree = _tree(ctx)
    names = sorted(tree)
    for known_from in names:
        for size in (1, 2, 3):
            for chosen in itertools.combinations(names, size):
                ids = {tree[name].id for name in chosen}
                recursive, completed = _both_ways(ctx, ids, tree[known_from].id)
                assert completed == recursive, (known_from, chosen)
                assert set(completed) == ids


def test_an_account_whose_parent_is_known_is_read_without_recursion(
    ctx: ServiceContext,
) -> None:
    tree = _tree(ctx)
    with ctx.uow(readonly=True) as uow:
        known = uow.accounts.chain(tree["client"].id)  # the client, the agency, the partner
    siblings = {tree["second_client"].id, tree["direct"].id}
    with statements(ctx) as sent, ctx.uow(readonly=True) as uow:
        chains = uow.accounts.chains(siblings, known=known)
    assert ["RECURSIVE" in text.upper() for text in sent] == [False], sent
    assert [a.id for a in chains[tree["second_client"].id]] == [
        tree[name].id for name in ("second_client", "agency", "partner")
    ]
    # One whose parent nobody read: its own row, then its chain, recursively.
    with statements(ctx) as sent, ctx.uow(readonly=True) as uow:
        chains = uow.accounts.chains({tree["elsewhere"].id}, known=known)
    assert ["RECURSIVE" in text.upper() for text in sent] == [False, True], sent
    assert [a.id for a in chains[tree["elsewhere"].id]] == [
        tree["elsewhere"].id,
        tree["other_partner"].id,
    ]


def test_an_account_that_is_gone_has_no_chain(ctx: ServiceContext) -> None:
    tree = _tree(ctx)
    recursive, completed = _both_ways(ctx, {"no-such-account"}, tree["client"].id)
    assert recursive == completed == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_cycle_is_read_as_deep_as_the_recursive_read_goes(ctx: ServiceContext) -> None:
    # No service makes a cycle; a damaged database must still not loop forever.
    tree = _tree(ctx)
    with ctx.uow() as uow:
        uow.accounts.conn.execute(  # type: ignore[attr-defined]
            sa.update(accounts)
            .where(accounts.c.id == tree["partner"].id)
            .values(parent_id=tree["client"].id)
        )
    for known_from in ("client", "partner", "direct"):
        recursive, completed = _both_ways(
            ctx, {tree["second_client"].id, tree["direct"].id}, tree[known_from].id
        )
        assert completed == recursive
        assert len(completed[tree["direct"].id]) == 9  # the account and eight parents
