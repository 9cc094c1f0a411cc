"""The world the policy matrix (tests/policy_table.py) runs in, built through the services.

Partner P with children C (where the columns' "child" roles are held), S (C's sibling), M
(partner management on) and U (off); partner Q with a child F. Every column acts twice: with
its role held in P and with its role held in C. A tree of advertiser children is built first;
the agency tree that accounts.create_account needs is built the first time a cell asks for it.

Each cell makes for itself what it changes (a member to remove, a fresh account to delete), so
cells share the world without depending on one another, in any order and any subset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.users import User
from tenantry.services import credentials, roles
from tenantry.services.context import Actor, ServiceContext

from factories import OPERATOR, activate, as_user, make_account, make_member, unique_email
from policy_table import (
    API_ACCOUNT_ADMIN,
    API_ACCOUNT_VIEW,
    COLUMNS,
    CUSTOM,
    CUSTOM_ROLE,
    CUSTOM_ROLE_KEY,
    GRANTED_CAPABILITIES,
    GRANTED_ROLE,
    OTHER_GRANTED_ROLE,
    TOKEN_VIEW,
    Relation,
)

_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    """Lower-case letters and digits: valid as a client id, an app id and a role key."""
    return f"{prefix}{next(_numbers)}"


@dataclass
class Furnished:
    """What an account of the world holds, so that every call has something to act on."""

    account: Account
    keeper: User  # an active admin, never acted on by a cell
    reader: User  # an active member holding GRANTED_ROLE
    client_id: str  # one of its API accounts


@dataclass
class Tree:
    """The children of one kind: C, S, M, U under P, and F under Q."""

    home: Account
    sibling: Account
    managed: Account
    unmanaged: Account
    foreign: Account
    actors: dict[str, Actor]  # column → actor with its role held in `home`


@dataclass
class PolicyWorld:
    ctx: ServiceContext
    top: Account  # P
    other_top: Account  # Q
    top_actors: dict[str, Actor]  # column → actor with its role held in P
    furnished: dict[str, Furnished] = field(default_factory=dict)  # by account id
    trees: dict[str, Tree] = field(default_factory=dict)  # by child kind

    def tree(self, kind: str) -> Tree:
        if kind not in self.trees:
            self.trees[kind] = _build_tree(self, AccountKind(kind))
        return self.trees[kind]

    def side(self, relation: Relation, kind: str, column: str) -> tuple[Actor, Account]:
        """The actor and the account the call names, for one relation."""
        tree = self.tree(kind)
        targets = {
            Relation.OWN: (tree.actors, tree.home),
            Relation.CHILD_PM_ON: (self.top_actors, tree.managed),
            Relation.CHILD_PM_OFF: (self.top_actors, tree.unmanaged),
            Relation.PARENT: (tree.actors, self.top),
            Relation.SIBLING: (tree.actors, tree.sibling),
            Relation.FOREIGN: (self.top_actors, tree.foreign),
        }
        actors, target = targets[relation]
        return actors[column], target

    def fresh_side(self, relation: Relation, column: str) -> tuple[Actor, Account]:
        """Like `side`, with a new target account of its own (for calls that destroy it)."""
        if relation is Relation.PARENT:
            return self.side(relation, AccountKind.ADVERTISER.value, column)
        parent = self.other_top if relation is Relation.FOREIGN else self.top
        target = self.child(parent, managed=relation is not Relation.CHILD_PM_OFF)
        furnish(self, target)  # as full as the shared targets: deleting takes it all
        if relation is Relation.OWN:
            return make_actor(self, column, target), target
        if relation is Relation.SIBLING:
            return self.tree(AccountKind.ADVERTISER.value).actors[column], target
        return self.top_actors[column], target

    def child(
        self, parent: Account, *, kind: AccountKind = AccountKind.ADVERTISER, managed: bool = True
    ) -> Account:
        if managed:
            return make_account(self.ctx, parent=parent, kind=kind, name=unique("Child "))
        # An account its partner may not manage is made with an admin of its own.
        email = unique_email("own-admin")
        account = make_account(
            self.ctx,
            parent=parent,
            kind=kind,
            name=unique("Unmanaged "),
            can_partner_manage=False,
            admin_email=email,
        )
        with self.ctx.uow(readonly=True) as uow:
            owner = uow.users.find_by_email(email)
        assert owner is not None
        activate(self.ctx, owner.id, account.id)
        return account


def build_policy_world(ctx: ServiceContext) -> PolicyWorld:
    top = make_account(ctx, kind=AccountKind.PARTNER, name="Partner P")
    other_top = make_account(ctx, kind=AccountKind.PARTNER, name="Partner Q")
    world = PolicyWorld(ctx, top, other_top, {})
    for account in (top, other_top):
        furnish(world, account)
    world.top_actors = {column: make_actor(world, column, top) for column in COLUMNS}
    world.tree(AccountKind.ADVERTISER.value)
    return world


def _build_tree(world: PolicyWorld, kind: AccountKind) -> Tree:
    home = world.child(world.top, kind=kind)
    tree = Tree(
        home=home,
        sibling=world.child(world.top, kind=kind),
        managed=world.child(world.top, kind=kind),
        unmanaged=world.child(world.top, kind=kind, managed=False),
        foreign=world.child(world.other_top, kind=kind),
        actors={},
    )
    for account in (tree.home, tree.sibling, tree.managed, tree.unmanaged, tree.foreign):
        furnish(world, account)
    tree.actors = {column: make_actor(world, column, home) for column in COLUMNS}
    return tree


def furnish(world: PolicyWorld, account: Account) -> Furnished:
    """The account's roles to grant (and the custom column's), a keeper admin, a member
    holding GRANTED_ROLE and an API account, all made by the operator."""
    ctx = world.ctx
    for key, capabilities in (
        (GRANTED_ROLE, GRANTED_CAPABILITIES),
        (OTHER_GRANTED_ROLE, GRANTED_CAPABILITIES),
        (CUSTOM_ROLE_KEY, CUSTOM_ROLE),
    ):
        roles.create_custom_role(
            ctx, OPERATOR, account.id, key=key, display_name=key, capabilities=capabilities
        )
    with ctx.uow(readonly=True) as uow:
        owner = uow.users.find(account.owner_user_id) if account.owner_user_id else None
    keeper = owner or make_member(ctx, account, role="admin", email=unique_email("keeper"))
    reader = make_member(ctx, account, role=GRANTED_ROLE, email=unique_email("reader"))
    client_id = unique("known")
    credentials.create_api_account(ctx, OPERATOR, account.id, client_id, role_key=GRANTED_ROLE)
    furnished = Furnished(account, keeper, reader, client_id)
    world.furnished[account.id] = furnished
    return furnished


def make_actor(world: PolicyWorld, column: str, account: Account) -> Actor:
    """The column's actor with its role held in `account`: a member of its own, or a
    credential made by the account's keeper admin and authenticated as a face would."""
    ctx = world.ctx
    keeper = as_user(world.furnished[account.id].keeper)
    if column in (API_ACCOUNT_ADMIN, API_ACCOUNT_VIEW):
        role = "admin" if column == API_ACCOUNT_ADMIN else "view"
        client_id = unique("actor")
        _, secret = credentials.create_api_account(
            ctx, keeper, account.id, client_id, role_key=role
        )
        issued = credentials.issue_access_token(ctx, client_id, secret, source="policy")
        return credentials.authenticate(ctx, issued.token, face="test")
    if column == TOKEN_VIEW:
        admin = make_member(ctx, account, role="admin", email=unique_email("token-user"))
        _, token, _ = credentials.create_api_token(
            ctx, keeper, account.id, user_email=admin.email, role_key="view"
        )
        return credentials.authenticate(ctx, token, face="test")
    role = CUSTOM_ROLE_KEY if column == CUSTOM else column
    return as_user(make_member(ctx, account, role=role, email=unique_email(column)))
