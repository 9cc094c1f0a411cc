"""How the policy matrix calls each operation of tests/policy_table.py, and what an allowed
call must have done (or returned) for the cell to pass.

`prepare` runs as the operator before the call, so that each cell acts on something of its own
(a member to remove, a pending invitation to renew) and cells never depend on one another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.ids import hash_secret
from tenantry.domain.users import UserStatus
from tenantry.services import access, accounts, audit, credentials, invitations, members, roles
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember

from factories import make_member, unique_email
from policy_table import GRANTED_CAPABILITIES, GRANTED_ROLE, OTHER_GRANTED_ROLE
from policy_world import Furnished, PolicyWorld, unique


@dataclass
class Cell:
    world: PolicyWorld
    actor: Actor
    target: Account
    prepared: Any = None  # what the operation's `prepare` made, as the operator

    @property
    def ctx(self) -> ServiceContext:
        return self.world.ctx

    @property
    def furnished(self) -> Furnished:
        return self.world.furnished[self.target.id]


@dataclass(frozen=True)
class Call:
    run: Callable[[Cell], Any]
    verify: Callable[[Cell, Any], bool]  # an allowed call did (or returned) what was asked
    prepare: Callable[[Cell], Any] | None = None
    writes: bool = True
    fresh_target: bool = False  # the call destroys its target: a new one per cell


def _member_of_target(c: Cell) -> str:
    return make_member(c.ctx, c.target, role=GRANTED_ROLE).id


def _pending_email(c: Cell) -> str:
    return make_member(c.ctx, c.target, role=GRANTED_ROLE, active=False).email


def _role_held(c: Cell, user_id: str) -> str | None:
    with c.ctx.uow(readonly=True) as uow:
        membership = uow.memberships.find(user_id, c.target.id)
    return membership.role_key if membership is not None else None


def _user_by_email(c: Cell, email: str) -> str | None:
    with c.ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
    return user.id if user is not None else None


def _verify_added(c: Cell, _: Any) -> bool:
    user_id = _user_by_email(c, c.prepared)
    return user_id is not None and _role_held(c, user_id) == GRANTED_ROLE


def _verify_deactivated(c: Cell, _: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        return uow.users.get(c.prepared).status is UserStatus.DEACTIVATED


def _verify_renewed(c: Cell, token: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        invitation = uow.invitations.find_by_token_hash(hash_secret(token))
    return invitation is not None and invitation.account_id == c.target.id


def _verify_api_account(c: Cell, _: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        made = uow.api_accounts.find_by_client_id(c.prepared)
    return made is not None and made.account_id == c.target.id and made.role_key == GRANTED_ROLE


def _verify_api_token(c: Cell, result: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        token = uow.api_tokens.find_by_key(result[0].key)
    return (
        token is not None
        and token.account_id == c.target.id
        and token.user_id == c.furnished.reader.id
        and token.role_key == GRANTED_ROLE
    )


def _verify_renamed(c: Cell, _: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        renamed = uow.accounts.get(c.target.id)
    return bool(renamed.name == c.prepared)


def _verify_app(c: Cell, _: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        return c.prepared in uow.apps.for_account(c.target.id)


def _verify_role(c: Cell, _: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        return uow.custom_roles.find(c.target.id, c.prepared) is not None


def _verify_child(c: Cell, made: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        found = uow.accounts.find(made.id)
    return found is not None and found.parent_id == c.target.id and found.name == c.prepared


def _verify_deleted(c: Cell, _: Any) -> bool:
    with c.ctx.uow(readonly=True) as uow:
        return uow.accounts.find(c.target.id) is None


CALLS: dict[str, Call] = {
    "members.add_member": Call(
        prepare=lambda c: unique_email("added"),
        run=lambda c: members.add_member(
            c.ctx, c.actor, c.target.id, NewMember(c.prepared, GRANTED_ROLE)
        ),
        verify=_verify_added,
    ),
    "members.change_role": Call(
        prepare=_member_of_target,
        run=lambda c: members.change_role(
            c.ctx, c.actor, c.target.id, c.prepared, OTHER_GRANTED_ROLE
        ),
        verify=lambda c, _: _role_held(c, c.prepared) == OTHER_GRANTED_ROLE,
    ),
    "members.remove_member": Call(
        prepare=_member_of_target,
        run=lambda c: members.remove_member(c.ctx, c.actor, c.target.id, c.prepared),
        verify=lambda c, _: _role_held(c, c.prepared) is None,
    ),
    "members.set_user_active": Call(
        prepare=_member_of_target,
        run=lambda c: members.set_user_active(c.ctx, c.actor, c.target.id, c.prepared, False),
        verify=_verify_deactivated,
    ),
    "members.list_members": Call(
        run=lambda c: members.list_members(c.ctx, c.actor, c.target.id, limit=100),
        verify=lambda c, page: c.furnished.reader.id in {m.user.id for m in page.items},
        writes=False,
    ),
    "invitations.list_invitations": Call(
        prepare=_pending_email,
        run=lambda c: invitations.list_invitations(c.ctx, c.actor, c.target.id, limit=1000),
        verify=lambda c, found: c.prepared in {v.invitation.email for v in found},
        writes=False,
    ),
    "invitations.renew_invitation": Call(
        prepare=_pending_email,
        run=lambda c: invitations.renew_invitation(c.ctx, c.actor, c.target.id, c.prepared),
        verify=_verify_renewed,
    ),
    "credentials.create_api_account": Call(
        prepare=lambda c: unique("made"),
        run=lambda c: credentials.create_api_account(
            c.ctx, c.actor, c.target.id, c.prepared, role_key=GRANTED_ROLE
        ),
        verify=_verify_api_account,
    ),
    "credentials.create_api_token": Call(
        run=lambda c: credentials.create_api_token(
            c.ctx,
            c.actor,
            c.target.id,
            user_email=c.furnished.reader.email,
            role_key=GRANTED_ROLE,
        ),
        verify=_verify_api_token,
    ),
    "credentials.list_api_accounts": Call(
        run=lambda c: credentials.list_api_accounts(c.ctx, c.actor, c.target.id),
        verify=lambda c, found: c.furnished.client_id in {a.client_id for a in found},
        writes=False,
    ),
    "accounts.get_account": Call(
        run=lambda c: accounts.get_account(c.ctx, c.actor, c.target.id),
        verify=lambda c, found: found.id == c.target.id,
        writes=False,
    ),
    "accounts.update_account": Call(
        prepare=lambda c: unique("Renamed "),
        run=lambda c: accounts.update_account(
            c.ctx, c.actor, c.target.id, AccountChanges(name=c.prepared)
        ),
        verify=_verify_renamed,
    ),
    "accounts.add_app": Call(
        prepare=lambda c: unique("com.example.app"),
        run=lambda c: accounts.add_app(c.ctx, c.actor, c.target.id, c.prepared),
        verify=_verify_app,
    ),
    "roles.create_custom_role": Call(
        prepare=lambda c: unique("made_role"),
        run=lambda c: roles.create_custom_role(
            c.ctx,
            c.actor,
            c.target.id,
            key=c.prepared,
            display_name="Made here",
            capabilities=GRANTED_CAPABILITIES,
        ),
        verify=_verify_role,
    ),
    "audit.list_audit_events": Call(
        run=lambda c: audit.list_audit_events(c.ctx, c.actor, c.target.id, limit=50),
        verify=lambda c, found: bool(found) and {e.account_id for e in found} == {c.target.id},
        writes=False,
    ),
    "accounts.create_account": Call(
        prepare=lambda c: unique("New child "),
        run=lambda c: accounts.create_account(
            c.ctx,
            c.actor,
            name=c.prepared,
            kind=AccountKind.ADVERTISER,
            parent_id=c.target.id,
        ),
        verify=_verify_child,
    ),
    "accounts.delete_account": Call(
        run=lambda c: accounts.delete_account(c.ctx, c.actor, c.target.id),
        verify=_verify_deleted,
        fresh_target=True,
    ),
    "access.explain_access": Call(
        run=lambda c: access.explain_access(
            c.ctx, c.actor, c.target.id, user_id=c.furnished.reader.id
        ),
        verify=lambda c, found: (
            found.user.id == c.furnished.reader.id and found.account.id == c.target.id
        ),
        writes=False,
    ),
}
