"""The authorization matrix: every service function (a row) against every kind of actor (a
column) that tries to read or change advertiser account B.

Rows name what each column must get: the call succeeds (`ALLOW`), is refused with a given
error (`denied(...)`), succeeds without showing B (`HIDDEN`), or, for the bulk calls, is
refused item by item (`items_denied(...)`).
`tests/integration/test_authorization_matrix.py` runs the cells and checks that no service
function is missing here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tenantry.domain.account_policy import PolicyChanges
from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from tenantry.domain.pixels import FilterKind, FilterState, Pixel, TrafficReport
from tenantry.domain.users import User
from tenantry.services import (
    access,
    account_policy,
    accounts,
    audit,
    credentials,
    directory,
    gateway,
    gateway_pixels,
    gateway_traffic,
    invitations,
    member_browsing,
    members,
    membership_changes,
    roles,
    tenant_members,
)
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.gateway_pixels import PixelSetup
from tenantry.services.members import NewMember, RoleRef
from tenantry.services.membership_commands import RemoveMember

from factories import OPERATOR, World, as_user, build_world, make_account, make_member, unique_email

_numbers = itertools.count(1)


def _unique(prefix: str) -> str:
    """Letters and digits only, so it is valid as an app id, a role key and a client id."""
    return f"{prefix}{next(_numbers)}"


def _digits() -> str:
    return str(9_000_000 + next(_numbers))


def _unique_host() -> str:
    return f"in{next(_numbers)}.example.com"


# -- the world ---------------------------------------------------------------------------------


@dataclass
class MatrixWorld:
    """host (partner) → advertisers A and B (factories.World), plus A's credentials and one of
    everything in B, so that reads have something to show."""

    ctx: ServiceContext
    base: World
    a_token: Actor
    a_api_account: Actor
    b_app: str
    b_role: str
    b_client_id: str
    b_token_key: str
    b_pending: User


def build_matrix_world(ctx: ServiceContext) -> MatrixWorld:
    base = build_world(ctx)
    a_admin = as_user(base.a_admin)
    _, token, _ = credentials.create_api_token(ctx, a_admin, base.a.id, name="A's script")
    a_client = _unique("aclient")
    _, secret = credentials.create_api_account(ctx, a_admin, base.a.id, a_client)
    access = credentials.issue_access_token(ctx, a_client, secret, source="matrix")

    b = base.b.id
    b_app, b_role, b_client = _unique("com.example.b"), _unique("brole"), _unique("bclient")
    accounts.add_app(ctx, OPERATOR, b, b_app)
    _custom_role(ctx, b, b_role)
    credentials.create_api_account(ctx, OPERATOR, b, b_client)
    b_token, _, _ = credentials.create_api_token(ctx, OPERATOR, b)
    return MatrixWorld(
        ctx=ctx,
        base=base,
        # The real actors a face gets from authenticating, not hand-built ones.
        a_token=credentials.authenticate(ctx, token, face="test"),
        a_api_account=credentials.authenticate(ctx, access.token, face="test"),
        b_app=b_app,
        b_role=b_role,
        b_client_id=b_client,
        b_token_key=b_token.key,
        b_pending=make_member(ctx, base.b, role="view", active=False),
    )


def _custom_role(ctx: ServiceContext, account_id: str, key: str, capabilities: Any = None) -> str:
    roles.create_custom_role(
        ctx,
        OPERATOR,
        account_id,
        key=key,
        display_name=key,
        capabilities=capabilities or {"data": {"reports": "read"}},
    )
    return key


# -- columns: who acts -------------------------------------------------------------------------

A_ADMIN = "a_admin"
A_TOKEN = "a_api_token"
A_API_ACCOUNT = "a_api_account"
B_VIEW = "b_view"
B_MANAGE = "b_manage"
HOST_UNMANAGED = "host_admin_unmanaged"
B_ADMIN = "b_admin"
HOST_ADMIN = "host_admin"
A_VIA_OWN = "a_admin_via_own_account"
B_MANAGE_GRANTS = "b_manage_grants_api_access"

CROSS_ACCOUNT = (A_ADMIN, A_TOKEN, A_API_ACCOUNT)
STANDARD = (*CROSS_ACCOUNT, B_VIEW, B_MANAGE, HOST_UNMANAGED, B_ADMIN, HOST_ADMIN)
POSITIVE_CONTROLS = (B_ADMIN, HOST_ADMIN)


@dataclass(frozen=True)
class Column:
    key: str
    doc: str
    actor: Callable[[MatrixWorld, Account], Actor]
    partner_manage: bool = True  # the target's can_partner_manage during the call
    through_own_account: bool = False  # the call names A, the objects it names are B's


def _fresh_member(role: str) -> Callable[[MatrixWorld, Account], Actor]:
    # A member of their own per cell, so a cell that removes or demotes someone never changes
    # who acts in the next one.
    return lambda w, target: as_user(make_member(w.ctx, target, role=role))


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column(A_ADMIN, "admin user of sibling advertiser A", lambda w, _: as_user(w.base.a_admin)),
        Column(A_TOKEN, "API token of A's admin", lambda w, _: w.a_token),
        Column(A_API_ACCOUNT, "API account of A", lambda w, _: w.a_api_account),
        Column(B_VIEW, "view member of B", _fresh_member("view")),
        Column(B_MANAGE, "manage member of B, on admin-only things", _fresh_member("manage")),
        Column(
            HOST_UNMANAGED,
            "host partner's admin, B.can_partner_manage false",
            lambda w, _: as_user(w.base.host_admin),
            partner_manage=False,
        ),
        Column(B_ADMIN, "B's own admin", _fresh_member("admin")),
        Column(HOST_ADMIN, "host partner's admin", lambda w, _: as_user(w.base.host_admin)),
        Column(
            A_VIA_OWN,
            "A's admin naming A, with B's objects",
            lambda w, _: as_user(w.base.a_admin),
            through_own_account=True,
        ),
        Column(
            B_MANAGE_GRANTS,
            "manage member of B granting a role with more than its own rights",
            _fresh_member("manage"),
        ),
    )
}


# -- outcomes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # allow | hidden | denied | items_denied
    error: type[DomainError] | None = None


ALLOW = Outcome("allow")
HIDDEN = Outcome("hidden")


def denied(error: type[DomainError]) -> Outcome:
    return Outcome("denied", error)


def items_denied(error: type[DomainError]) -> Outcome:
    return Outcome("items_denied", error)


FORBIDDEN = denied(Forbidden)
NOT_FOUND = denied(NotFound)


def expect(
    *,
    a: Outcome = FORBIDDEN,
    view: Outcome = FORBIDDEN,
    manage: Outcome = FORBIDDEN,
    unmanaged: Outcome = FORBIDDEN,
    b_admin: Outcome = ALLOW,
    host: Outcome = ALLOW,
    own: Outcome | None = None,
    grants: Outcome | None = None,
) -> dict[str, Outcome]:
    """A row's cells; the defaults are those of a call that manages B.

    B exists and the services look an account up before they authorize, so refusing to act on
    B is Forbidden: nothing is hidden by a NotFound. NotFound is right where the call names A
    and the object is B's (`own`): in A it does not exist, and saying so tells nothing of B.
    """
    cells = {A_ADMIN: a, A_TOKEN: a, A_API_ACCOUNT: a, B_VIEW: view, B_MANAGE: manage}
    cells |= {HOST_UNMANAGED: unmanaged, B_ADMIN: b_admin, HOST_ADMIN: host}
    if own is not None:
        cells[A_VIA_OWN] = own
    if grants is not None:
        cells[B_MANAGE_GRANTS] = grants
    return cells


# -- rows: what is attempted -------------------------------------------------------------------


@dataclass
class Cell:
    world: MatrixWorld
    column: Column
    target: Account
    actor: Actor
    prepared: Any = None  # what the row's `prepare` made for this cell

    @property
    def ctx(self) -> ServiceContext:
        return self.world.ctx

    @property
    def account_id(self) -> str:
        """The account the call names."""
        return self.world.base.a.id if self.column.through_own_account else self.target.id

    @property
    def admin_only(self) -> bool:
        """The manage column tries the admin-only variant of a users call."""
        return self.column.key == B_MANAGE


def _b(w: MatrixWorld) -> Account:
    return w.base.b


def _fresh_advertiser(w: MatrixWorld) -> Account:
    return make_account(w.ctx, parent=w.base.host, name=_unique("Advertiser B"))


def _fresh_agency(w: MatrixWorld) -> Account:
    return make_account(w.ctx, parent=w.base.host, kind=AccountKind.AGENCY, name=_unique("B"))


def _plain_call(row: Row, c: Cell) -> Any:
    """`service(ctx, actor, account_id, *what prepare made)`: how most rows call."""
    if c.prepared is None:
        extra: tuple[Any, ...] = ()
    elif isinstance(c.prepared, tuple):
        extra = c.prepared
    else:
        extra = (c.prepared,)
    return row.service(c.ctx, c.actor, c.account_id, *extra)


@dataclass(frozen=True)
class Row:
    service: Callable[..., Any]
    expect: Mapping[str, Outcome]
    call: Callable[[Cell], Any] | None = None  # when the service is not called plainly
    prepare: Callable[[Cell], Any] | None = None  # runs as the operator, before the snapshot
    writes: bool = True  # an allowed call must change the database, a read must not
    reveals: Callable[[Any, Cell], bool] | None = None  # the result shows B's data
    target: Callable[[MatrixWorld], Account] = _b  # fresh when allowed cells would destroy B
    bugs: Mapping[str, str] = field(default_factory=dict)  # column → what is wrong

    @property
    def name(self) -> str:
        return f"{self.service.__module__.rsplit('.', 1)[-1]}.{self.service.__name__}"

    def run(self, cell: Cell) -> Any:
        return self.call(cell) if self.call is not None else _plain_call(self, cell)


def _victim(c: Cell, *, active: bool = True) -> User:
    """A member of the target to act on: an admin for the manage column, else a viewer."""
    return make_member(c.ctx, c.target, role="admin" if c.admin_only else "view", active=active)


def _app_of_b(c: Cell) -> str:
    app_id = _unique("app")
    accounts.add_app(c.ctx, OPERATOR, c.target.id, app_id)
    return app_id


def _api_account_of_b(c: Cell) -> str:
    api_account, _ = credentials.create_api_account(c.ctx, OPERATOR, c.target.id, _unique("b"))
    return api_account.client_id


def _pixel_of_b(c: Cell) -> Pixel:
    setup = PixelSetup(_digits(), "4242", "EAAB-secret", "ext-1")
    return gateway_pixels.setup_pixel(c.ctx, OPERATOR, c.target.id, setup).pixel


def _ingress_of_b(c: Cell) -> str:
    host = _unique_host()
    gateway.upsert_ingress_domain(c.ctx, OPERATOR, c.target.id, ingress=host, target_domain="")
    return host


def _event_filter_of_b(c: Cell) -> str:
    name = _unique("Lead")
    gateway_pixels.update_event_filter(
        c.ctx, OPERATOR, c.target.id, event_name=name, pixel_ids=None, state=FilterState.DROP
    )
    return name


def _set_user_active_victim(c: Cell) -> str:
    if not c.column.through_own_account:
        return _victim(c).id
    # B's admin joins A too (multi-account users are on by default; A's admin may add any
    # active user, who joins at once); A's admin then deactivates "their" member.
    shared = make_member(c.ctx, c.target, role="admin")
    a_admin = as_user(c.world.base.a_admin)
    members.add_member(c.ctx, a_admin, c.world.base.a.id, NewMember(shared.email, "view"))
    return shared.id


def _transfer_ownership_args(c: Cell) -> str:
    """B's owner is the B_ADMIN column's actor (elsewhere another admin); the call hands
    ownership to a third admin."""
    heir = make_member(c.ctx, c.target, role="admin")
    if c.column.key == B_ADMIN and c.actor.user_id is not None:
        owner = c.actor.user_id
    else:
        owner = make_member(c.ctx, c.target, role="admin").id
    accounts.transfer_ownership(c.ctx, OPERATOR, c.target.id, owner)
    return heir.id


def _escalating_role(c: Cell) -> tuple[str, str]:
    """A custom role that is not admin-like (admins blocked) but grants API access: its holder
    could make an API account, and API accounts act as admins."""
    caps = {"user_management": {"users": "all"}, "account": {"api_access": "all"}}
    key = _custom_role(c.ctx, c.target.id, _unique("integrator"), caps)
    return make_member(c.ctx, c.target, role="view").id, key


def _change_role_args(c: Cell) -> tuple[str, str]:
    if c.column.key == B_MANAGE_GRANTS:
        return _escalating_role(c)
    # The manage column promotes a viewer to admin.
    viewer = make_member(c.ctx, c.target, role="view")
    return viewer.id, "admin" if c.admin_only else "member"


def _reassign_role_args(c: Cell) -> tuple[str, RoleRef, RoleRef]:
    """Swap the victim's role in one call (the same-account path of reassign_role)."""
    victim = _victim(c)
    held = "admin" if c.admin_only else "view"
    # Refused callers must be refused whatever they name, so they name a role the victim does
    # not hold: the answer must not tell them which role a member of B holds.
    if c.column.key in (*CROSS_ACCOUNT, HOST_UNMANAGED):
        held = "marketing"
    # The manage column demotes an admin: admin-only, like removing one.
    return victim.id, RoleRef(c.account_id, held), RoleRef(c.account_id, "member")


ROWS: tuple[Row, ...] = (
    # -- accounts --
    Row(
        accounts.create_account,
        expect(),
        # B plays an agency here: an advertiser has no child accounts for anyone to create.
        call=lambda c: accounts.create_account(
            c.ctx, c.actor, name="Child", kind=AccountKind.ADVERTISER, parent_id=c.account_id
        ),
        target=_fresh_agency,
    ),
    Row(
        accounts.get_account,
        # The parent reads its children whatever can_partner_manage says (that flag is about
        # managing B's users); B's own readers read it.
        expect(view=ALLOW, manage=ALLOW, unmanaged=ALLOW),
        writes=False,
        reveals=lambda account, c: account.id == c.target.id,
    ),
    Row(
        accounts.list_accounts,
        # A list never fails: B must simply not be in it.
        expect(a=HIDDEN, view=ALLOW, manage=ALLOW, unmanaged=ALLOW),
        call=lambda c: accounts.list_accounts(c.ctx, c.actor, limit=500),
        writes=False,
        reveals=lambda found, c: c.target.id in {a.id for a in found},
    ),
    Row(
        accounts.first_children,
        # Never fails either: B must simply not be among its parent's children.
        expect(a=HIDDEN, view=ALLOW, manage=ALLOW, unmanaged=ALLOW),
        call=lambda c: accounts.first_children(
            c.ctx, c.actor, [c.target.parent_id or ""], limit_each=500
        ),
        writes=False,
        reveals=lambda found, c: any(
            c.target.id in {a.id for a in shown} for shown, _ in found.values()
        ),
    ),
    Row(
        accounts.update_account,
        # Renaming or deactivating an account as a whole is its parent's to do (the CAPIG
        # updateTenant mutation, canPartnerManage included), so the flag does not stop it.
        expect(unmanaged=ALLOW),
        prepare=lambda c: AccountChanges(name=_unique("Renamed B")),
    ),
    Row(
        account_policy.update_account_policy,
        # The security policy is B's settings admins', or the parent's while partner management
        # reaches B: unlike renaming B, a parent whose reach B turned off has no say in it.
        expect(),
        prepare=lambda c: PolicyChanges(invitation_ttl_days=next(_numbers) % 90 + 1),
    ),
    Row(
        accounts.delete_account,
        # Only the parent deletes an account; B's admin can't delete B.
        expect(b_admin=FORBIDDEN, unmanaged=ALLOW),
        target=_fresh_advertiser,
    ),
    Row(
        accounts.transfer_ownership,
        # The owner's step alone: even the partner that manages B does not take it.
        expect(host=FORBIDDEN),
        prepare=lambda c: _transfer_ownership_args(c),
        target=_fresh_advertiser,
    ),
    Row(
        access.explain_access,
        expect(view=ALLOW, manage=ALLOW),
        call=lambda c: access.explain_access(
            c.ctx, c.actor, c.account_id, user_id=c.world.base.b_admin.id
        ),
        writes=False,
        reveals=lambda found, c: found.account.id == c.target.id,
    ),
    Row(
        accounts.list_apps,
        expect(view=ALLOW, manage=ALLOW),
        writes=False,
        reveals=lambda apps, c: c.world.b_app in apps,
    ),
    Row(accounts.add_app, expect(), prepare=lambda c: _unique("com.example.n")),
    Row(
        accounts.remove_app,
        # Through A, B's app id is just an unknown app of A (AppsFlyer's error for that).
        expect(own=denied(InvalidInput)),
        prepare=_app_of_b,
    ),
    # -- members --
    Row(
        members.add_member,
        expect(),
        prepare=lambda c: NewMember(unique_email("new"), "admin" if c.admin_only else "member"),
    ),
    Row(
        members.change_role,
        # Through A, B's member is not a member: NotFound, which tells A nothing about B.
        # A manage member grants no role beyond its own: one with API access would make it an
        # admin through an API account.
        expect(own=NOT_FOUND, grants=FORBIDDEN),
        prepare=_change_role_args,
    ),
    Row(members.remove_member, expect(own=NOT_FOUND), prepare=lambda c: _victim(c).id),
    Row(
        members.set_user_active,
        # The status is the person's, in every account: A's admin must not lock B's admin out
        # by adding them to A first. They are A's member then, so Forbidden, not NotFound.
        expect(own=FORBIDDEN),
        prepare=lambda c: (_set_user_active_victim(c), False),
    ),
    Row(
        members.list_members,
        expect(view=ALLOW, manage=ALLOW),
        writes=False,
        reveals=lambda page, c: c.world.base.b_admin.id in {m.user.id for m in page.items},
    ),
    Row(
        tenant_members.tenant_members,
        expect(view=ALLOW, manage=ALLOW),
        call=lambda c: tenant_members.tenant_members(c.ctx, c.actor, c.account_id, at_most=100),
        writes=False,
        reveals=lambda found, c: c.world.base.b_admin.id in {u.id for u in found.users},
    ),
    Row(
        members.list_all_members,
        expect(view=ALLOW, manage=ALLOW),
        writes=False,
        reveals=lambda found, c: c.world.base.b_admin.id in {m.user.id for m in found},
    ),
    Row(
        member_browsing.browse_members,
        expect(view=ALLOW, manage=ALLOW),
        writes=False,
        reveals=lambda found, c: c.world.base.b_admin.id in {m.user.id for m in found.items},
    ),
    Row(
        member_browsing.account_roles,
        expect(view=ALLOW, manage=ALLOW),
        writes=False,
        reveals=lambda found, c: c.world.b_role in {r.key for r in found},
    ),
    Row(
        members.reassign_role,
        # Through A, B's member holds no role in A: NotFound is the truth about A alone. A
        # user id is looked up for those who can see its user, so whoever can't read B's
        # members learns nothing from it, not even that it exists.
        expect(a=NOT_FOUND, unmanaged=NOT_FOUND, own=NOT_FOUND),
        call=lambda c: members.reassign_role(
            c.ctx, c.actor, c.prepared[0], revoke=c.prepared[1], add=c.prepared[2]
        ),
        prepare=_reassign_role_args,
    ),
    Row(
        members.get_member,
        expect(view=ALLOW, manage=ALLOW, own=NOT_FOUND),
        prepare=lambda c: c.world.base.b_admin.id,
        writes=False,
        reveals=lambda member, c: member.user.id == c.world.base.b_admin.id,
    ),
    Row(
        members.role_of_actor,
        # Only ever about the caller itself: None where it holds no role.
        expect(a=HIDDEN, view=ALLOW, manage=ALLOW, unmanaged=HIDDEN),
        writes=False,
        reveals=lambda role, c: role is not None,
    ),
    # -- directory: batched reads across accounts, which never fail but leave B out --
    Row(
        directory.placements_of,
        # With can_partner_manage false the parent sees B, not B's members (as list_members).
        expect(a=HIDDEN, view=ALLOW, manage=ALLOW, unmanaged=HIDDEN),
        call=lambda c: directory.placements_of(c.ctx, c.actor, [c.prepared]),
        prepare=lambda c: make_member(c.ctx, c.target, role="view").id,
        writes=False,
        reveals=lambda found, c: any(
            p.account.id == c.target.id for entry in found.values() for p in entry.placements
        ),
    ),
    Row(
        directory.visible_user,
        # A user seen through no account is "not found": the caller can't tell they exist.
        expect(a=NOT_FOUND, view=ALLOW, manage=ALLOW, unmanaged=NOT_FOUND),
        call=lambda c: directory.visible_user(c.ctx, c.actor, c.prepared),
        prepare=lambda c: make_member(c.ctx, c.target, role="view").id,
        writes=False,
        reveals=lambda found, c: found[0].id == c.prepared,
    ),
    Row(
        directory.roles_of_accounts,
        # The roles an account offers are its configuration, readable with the account itself
        # (the parent reads it whatever can_partner_manage says; who holds them is list_roles).
        expect(a=HIDDEN, view=ALLOW, manage=ALLOW, unmanaged=ALLOW),
        call=lambda c: directory.roles_of_accounts(c.ctx, c.actor, [c.account_id]),
        writes=False,
        reveals=lambda found, c: c.world.b_role in {r.key for r in found.get(c.target.id, [])},
    ),
    # -- many membership changes at once --
    Row(
        membership_changes.apply_membership_changes,
        # Someone else's account refuses the whole call; only a permitted caller gets a
        # report per item. An add and a removal (by address, as the bulk API removes) in one
        # batch: the manage column may neither add an admin nor remove one; naming A with
        # B's member removes nobody.
        expect(manage=items_denied(Forbidden), own=items_denied(NotFound)),
        call=lambda c: membership_changes.apply_membership_changes(
            c.ctx, c.actor, c.account_id, c.prepared, all_or_nothing=True
        ),
        prepare=lambda c: [
            NewMember(unique_email("bulk"), "admin" if c.admin_only else "member"),
            RemoveMember(email=_victim(c).email),
        ],
    ),
    # -- invitations --
    Row(
        invitations.renew_invitation,
        # The manage column renews a pending admin's invitation: the fresh link would let it
        # sign in as that admin.
        expect(own=NOT_FOUND),
        prepare=lambda c: _victim(c, active=False).email,
    ),
    Row(
        invitations.revoke_invitation,
        # The manage column revokes a pending admin's invitation: admin-only, like removing one.
        expect(own=NOT_FOUND),
        prepare=lambda c: _victim(c, active=False).email,
    ),
    Row(
        invitations.list_invitations,
        # Invitations are user management: viewers (users: read) do not see them.
        expect(manage=ALLOW),
        writes=False,
        reveals=lambda found, c: c.world.b_pending.email in {v.invitation.email for v in found},
    ),
    # -- credentials --
    Row(credentials.create_api_account, expect(), prepare=lambda c: _unique("client")),
    Row(
        credentials.list_api_accounts,
        # API access is blocked for view and manage: they may not even list credentials.
        expect(),
        writes=False,
        reveals=lambda found, c: c.world.b_client_id in {a.client_id for a in found},
    ),
    Row(credentials.revoke_api_account, expect(own=NOT_FOUND), prepare=_api_account_of_b),
    Row(
        credentials.create_api_token,
        # Through A, a token acting as B's admin is refused: not an active member of A.
        expect(own=denied(InvalidInput)),
        call=lambda c: credentials.create_api_token(
            c.ctx, c.actor, c.account_id, user_email=c.prepared
        ),
        prepare=lambda c: c.world.base.b_admin.email if c.column.through_own_account else None,
    ),
    Row(
        credentials.list_api_tokens,
        expect(),
        writes=False,
        reveals=lambda found, c: c.world.b_token_key in {t.key for t in found},
    ),
    Row(
        credentials.list_api_tokens_with_users,
        expect(),
        writes=False,
        reveals=lambda found, c: c.world.b_token_key in {t.token.key for t in found},
    ),
    Row(
        credentials.revoke_api_token,
        expect(own=NOT_FOUND),
        prepare=lambda c: credentials.create_api_token(c.ctx, OPERATOR, c.target.id)[0].key,
    ),
    # -- roles --
    Row(
        roles.list_roles,
        expect(view=ALLOW, manage=ALLOW),
        writes=False,
        reveals=lambda found, c: c.world.b_role in {r.role.key for r in found},
    ),
    Row(
        roles.create_custom_role,
        expect(),
        call=lambda c: roles.create_custom_role(
            c.ctx,
            c.actor,
            c.account_id,
            key=_unique("role"),
            display_name="Reports",
            capabilities={"data": {"reports": "read"}},
        ),
    ),
    Row(
        roles.delete_custom_role,
        expect(own=NOT_FOUND),
        prepare=lambda c: _custom_role(c.ctx, c.target.id, _unique("doomed")),
    ),
    # -- audit --
    Row(
        audit.list_audit_events,
        # The catalogue gives manage the audit log read-only and view none of it.
        expect(manage=ALLOW),
        writes=False,
        reveals=lambda found, c: bool(found) and {e.account_id for e in found} == {c.target.id},
    ),
    Row(
        audit.export_audit_events,
        # Read as the audit page reads it; the iterator is consumed, as an export is.
        expect(manage=ALLOW),
        call=lambda c: list(audit.export_audit_events(c.ctx, c.actor, c.account_id)),
        writes=False,
        reveals=lambda found, c: bool(found) and {e.account_id for e in found} == {c.target.id},
    ),
    # -- gateway: the ingress domain reads with the account, usage needs a role inside it (a
    # parent without partner management sees the child, not its pixels), pixels need
    # data.pixels (read for view, all for manage, so manage changes pixels as a matter of
    # course) --
    Row(
        gateway.usage_of_accounts,
        expect(a=HIDDEN, view=ALLOW, manage=ALLOW, unmanaged=HIDDEN),
        call=lambda c: gateway.usage_of_accounts(c.ctx, c.actor, [c.account_id]),
        prepare=_pixel_of_b,
        writes=False,
        reveals=lambda found, c: (
            c.target.id in found and c.prepared.pixel_id in found[c.target.id].pixel_ids
        ),
    ),
    Row(
        gateway.tenant_usage,
        expect(view=ALLOW, manage=ALLOW),
        call=lambda c: gateway.tenant_usage(c.ctx, c.actor, c.account_id),
        prepare=_pixel_of_b,
        writes=False,
        reveals=lambda usage, c: c.prepared.pixel_id in usage.pixel_ids,
    ),
    Row(
        gateway.get_ingress_domain,
        expect(view=ALLOW, manage=ALLOW, unmanaged=ALLOW),
        call=lambda c: gateway.get_ingress_domain(c.ctx, c.actor, c.account_id),
        prepare=_ingress_of_b,
        writes=False,
        reveals=lambda domain, c: domain is not None and domain.ingress == c.prepared,
    ),
    Row(
        gateway.upsert_ingress_domain,
        expect(),
        call=lambda c: gateway.upsert_ingress_domain(
            c.ctx, c.actor, c.account_id, ingress=_unique_host(), target_domain=""
        ),
    ),
    Row(
        gateway_pixels.setup_pixel,
        expect(manage=ALLOW),
        prepare=lambda c: PixelSetup(_digits(), "4242", "EAAB-secret", "ext-1"),
    ),
    Row(
        gateway_pixels.delete_pixel,
        # Through A, B's pixel config is no config of A's.
        expect(manage=ALLOW, own=NOT_FOUND),
        prepare=lambda c: _pixel_of_b(c).id,
    ),
    Row(
        gateway_pixels.list_pixels,
        expect(view=ALLOW, manage=ALLOW),
        prepare=_pixel_of_b,
        call=lambda c: gateway_pixels.list_pixels(c.ctx, c.actor, c.account_id),
        writes=False,
        reveals=lambda found, c: c.prepared.id in {s.pixel.id for s in found.pixels},
    ),
    Row(
        gateway_pixels.set_events_enabled,
        expect(manage=ALLOW, own=NOT_FOUND),
        prepare=lambda c: (_pixel_of_b(c).id, False),
    ),
    Row(
        gateway_pixels.set_capi_publish,
        expect(manage=ALLOW, own=NOT_FOUND),
        prepare=lambda c: (_pixel_of_b(c).id, False),
    ),
    Row(
        gateway_pixels.update_event_filter,
        # Through A, naming B's pixel is naming a pixel A does not have.
        expect(manage=ALLOW, own=NOT_FOUND),
        call=lambda c: gateway_pixels.update_event_filter(
            c.ctx,
            c.actor,
            c.account_id,
            event_name=_unique("Purchase"),
            pixel_ids=[c.prepared.pixel_id],
            state=FilterState.DROP,
        ),
        prepare=_pixel_of_b,
    ),
    Row(
        gateway_pixels.update_domain_filter,
        expect(manage=ALLOW, own=NOT_FOUND),
        call=lambda c: gateway_pixels.update_domain_filter(
            c.ctx,
            c.actor,
            c.account_id,
            domain=_unique_host(),
            pixel_ids=[c.prepared.pixel_id],
            state=FilterState.DROP,
        ),
        prepare=_pixel_of_b,
    ),
    Row(
        gateway_pixels.list_filters,
        expect(view=ALLOW, manage=ALLOW),
        call=lambda c: gateway_pixels.list_filters(c.ctx, c.actor, c.account_id, FilterKind.EVENT),
        prepare=_event_filter_of_b,
        writes=False,
        reveals=lambda found, c: c.prepared in {f.value for f in found},
    ),
    Row(
        gateway_traffic.report_traffic,
        # Through A, B's pixel is refused as "no pixel of this account" (InvalidInput).
        expect(manage=ALLOW, own=denied(InvalidInput)),
        prepare=lambda c: [TrafficReport(_pixel_of_b(c).pixel_id, c.ctx.now(), 5)],
    ),
    Row(
        gateway_traffic.event_metrics,
        expect(view=ALLOW, manage=ALLOW, own=NOT_FOUND),
        call=lambda c: gateway_traffic.event_metrics(
            c.ctx, c.actor, c.account_id, pixel_ids=[c.prepared.pixel_id]
        ),
        prepare=_pixel_of_b,
        writes=False,
        reveals=lambda metrics, c: metrics.pixel_ids == [c.prepared.pixel_id],
    ),
)
