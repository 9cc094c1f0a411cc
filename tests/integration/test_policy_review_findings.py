"""What a hostile review of the identity and policy rules found, each now refused.

Each test replays one finding through the services (the faces only parse and render what
these answer): a co-admin moving the owner's address, a custom admin-like role granting full
admin, a partner's credential outliving partner management, a pending invitation locking an
identity's home account out of its own user, and user ids answered to strangers.
"""

from __future__ import annotations

import pytest

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.auth import SecondFactor
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.ids import hash_secret
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import (
    accounts,
    credentials,
    invitations,
    members,
    provisioning,
    provisioning_groups,
    roles,
)
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.member_query import UserQuery
from tenantry.services.members import NewMember, RoleRef
from tenantry.services.provisioning import UserSpec

from factories import OPERATOR, World, as_user, make_account, make_member, set_policy, unique_email


def _rename(ctx: ServiceContext, actor: Actor, account: Account, user: User) -> None:
    spec = UserSpec(email=unique_email("moved"), first_name=user.first_name)
    provisioning.replace_user(ctx, actor, account.id, user.id, spec)


def _email_of(ctx: ServiceContext, user: User) -> str:
    with ctx.uow(readonly=True) as uow:
        return uow.users.get(user.id).email


def test_a_co_admin_cannot_move_the_owners_address(ctx: ServiceContext, world: World) -> None:
    owner = make_member(ctx, world.a, role="admin")
    accounts.transfer_ownership(ctx, OPERATOR, world.a.id, owner.id)
    with pytest.raises(Forbidden) as refused:
        _rename(ctx, as_user(world.a_admin), world.a, owner)
    assert refused.value.code is ErrorCode.NOT_IDENTITY_OWNER
    assert _email_of(ctx, owner) == owner.email
    # A plain member of A alone: A's admin, the identity's home admin, may.
    plain = make_member(ctx, world.a, role="view")
    _rename(ctx, as_user(world.a_admin), world.a, plain)
    assert _email_of(ctx, plain) != plain.email


def test_nobody_else_moves_the_address_of_a_login_with_a_second_factor(
    ctx: ServiceContext, world: World
) -> None:
    secured = make_member(ctx, world.a, role="admin")
    now = ctx.now()
    with ctx.uow() as uow:
        uow.auth.replace_second_factor(SecondFactor(secured.id, "JBSWY3DPEHPK3PXP", now, None, now))
    with pytest.raises(Forbidden) as refused:
        _rename(ctx, as_user(world.a_admin), world.a, secured)
    assert "second factor" in refused.value.message
    assert _email_of(ctx, secured) == secured.email
    # The person themselves may.
    _rename(ctx, as_user(secured), world.a, secured)
    assert _email_of(ctx, secured) != secured.email


def test_a_custom_role_that_manages_admins_cannot_grant_full_admin(
    ctx: ServiceContext, world: World
) -> None:
    capabilities = {"user_management": {"users": "all", "admins": "all"}}
    roles.create_custom_role(
        ctx,
        OPERATOR,
        world.a.id,
        key="helpdesk",
        display_name="Helpdesk",
        capabilities=capabilities,
    )
    helper = make_member(ctx, world.a, role="helpdesk")
    with pytest.raises(Forbidden):
        members.change_role(ctx, as_user(helper), world.a.id, helper.id, "admin")
    with pytest.raises(Forbidden):
        members.add_member(ctx, as_user(helper), world.a.id, NewMember(unique_email(), "admin"))
    # Nor act on the full admin above it.
    with pytest.raises(Forbidden):
        members.change_role(ctx, as_user(helper), world.a.id, world.a_admin.id, "view")
    assert members.get_member(ctx, OPERATOR, world.a.id, helper.id).role.key == "helpdesk"
    # Within its own rights it still works.
    added = members.add_member(
        ctx, as_user(helper), world.a.id, NewMember(unique_email(), "helpdesk")
    )
    assert added.role.key == "helpdesk"


def test_a_partners_credential_ends_when_the_account_turns_partner_management_off(
    ctx: ServiceContext, world: World
) -> None:
    host = as_user(world.host_admin)
    _, token, _ = credentials.create_api_token(
        ctx, host, world.b.id, user_email=world.b_admin.email
    )
    _, secret = credentials.create_api_account(ctx, host, world.b.id, "partnerkey")
    minted = credentials.authenticate(ctx, token, face="test")
    access = credentials.issue_access_token(ctx, "partnerkey", secret, source="test")
    client = credentials.authenticate(ctx, access.token, face="test")
    assert members.list_members(ctx, minted, world.b.id).items
    assert members.list_members(ctx, client, world.b.id).items

    accounts.update_account(
        ctx, as_user(world.b_admin), world.b.id, AccountChanges(can_partner_manage=False)
    )
    for credential in (minted, client):
        with pytest.raises(Forbidden):
            members.list_members(ctx, credential, world.b.id)
        with pytest.raises(Forbidden):
            accounts.update_account(
                ctx, credential, world.b.id, AccountChanges(can_partner_manage=True)
            )
    assert not accounts.get_account(ctx, OPERATOR, world.b.id).can_partner_manage
    # B's own admin's credentials are B's own: they keep working.
    _, own, _ = credentials.create_api_token(ctx, as_user(world.b_admin), world.b.id)
    assert members.list_members(ctx, credentials.authenticate(ctx, own, face="t"), world.b.id)


def test_an_unaccepted_invitation_does_not_lock_the_home_account_out(
    ctx: ServiceContext, world: World
) -> None:
    theirs = make_member(ctx, world.b, role="view")
    invited = members.add_member(
        ctx, as_user(world.a_admin), world.a.id, NewMember(theirs.email, "view")
    )
    assert invited.membership.status is MembershipStatus.PENDING
    b_admin = as_user(world.b_admin)
    _rename(ctx, b_admin, world.b, theirs)
    assert _email_of(ctx, theirs) != theirs.email
    assert members.set_user_active(ctx, b_admin, world.b.id, theirs.id, False).status is (
        UserStatus.DEACTIVATED
    )


def test_a_user_id_tells_a_stranger_nothing(ctx: ServiceContext, world: World) -> None:
    theirs = make_member(ctx, world.b, role="view")
    a_admin = as_user(world.a_admin)
    with pytest.raises(NotFound):
        members.reassign_role(ctx, a_admin, theirs.id, revoke=None, add=RoleRef(world.a.id, "view"))
    with pytest.raises(NotFound):
        members.reassign_role(ctx, a_admin, theirs.id, revoke=RoleRef(world.b.id, "view"), add=None)
    with pytest.raises(NotFound):
        members.reassign_role(
            ctx,
            a_admin,
            "00000000-0000-0000-0000-000000000000",
            revoke=None,
            add=RoleRef(world.a.id, "view"),
        )
    before = {m.user.id for m in members.list_members(ctx, OPERATOR, world.a.id).items}
    with pytest.raises(InvalidInput) as refused:
        provisioning_groups.update_group(
            ctx,
            a_admin,
            world.a.id,
            "view",
            changes=provisioning_groups.MemberChanges(add=[theirs.id]),
        )
    assert refused.value.message == f"There is no user with the id {theirs.id}."
    assert {m.user.id for m in members.list_members(ctx, OPERATOR, world.a.id).items} == before
    found = provisioning.list_users(ctx, a_admin, world.a.id, UserQuery(limit=100))
    assert theirs.id not in {u.user.id for u in found.items}


@pytest.mark.parametrize("name", ["Adv\x1b[31mB", "Adv\u202eB", "Adv\u200bB", "Adv\x00B"])
def test_an_account_name_has_printable_characters_only(
    ctx: ServiceContext, world: World, name: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.update_account(ctx, as_user(world.a_admin), world.a.id, AccountChanges(name=name))
    assert refused.value.field == "name"
    assert accounts.get_account(ctx, OPERATOR, world.a.id).name == world.a.name


def test_an_invitation_elsewhere_gates_nobody_in_use(ctx: ServiceContext, world: World) -> None:
    """A second review: inviting someone whose identity is in use would have kept every other
    account from adding them ("pending in another account") for as long as nobody acted."""
    theirs = make_member(ctx, world.b, role="view")
    members.add_member(ctx, as_user(world.a_admin), world.a.id, NewMember(theirs.email, "view"))
    third = make_account(ctx, parent=world.host, name="Third brand")
    added = members.add_member(ctx, OPERATOR, third.id, NewMember(theirs.email, "view"))
    assert added.membership.status is MembershipStatus.PENDING


def test_a_new_identity_is_pending_elsewhere_while_its_invitation_is_open(
    ctx: ServiceContext, world: World
) -> None:
    """The AppsFlyer rule stays for an identity nobody has accepted yet, until that invitation
    is withdrawn or expires."""
    email = unique_email("new")
    members.add_member(ctx, as_user(world.a_admin), world.a.id, NewMember(email, "view"))
    with pytest.raises(Conflict) as refused:
        members.add_member(ctx, as_user(world.b_admin), world.b.id, NewMember(email, "view"))
    assert refused.value.code is ErrorCode.PENDING_ELSEWHERE
    invitations.revoke_invitation(ctx, as_user(world.a_admin), world.a.id, email)
    added = members.add_member(ctx, as_user(world.b_admin), world.b.id, NewMember(email, "view"))
    assert added.membership.status is MembershipStatus.PENDING


def test_accepting_checks_the_multi_account_rules_again(ctx: ServiceContext, world: World) -> None:
    theirs = make_member(ctx, world.b, role="view")
    invited = members.add_member(ctx, OPERATOR, world.a.id, NewMember(theirs.email, "view"))
    assert invited.invitation_token is not None
    set_policy(ctx, world.a.id, multi_account_users=False)
    with pytest.raises(Conflict) as refused:
        invitations.accept_invitation(
            ctx, invited.invitation_token, theirs.email, None, signed_in_user_id=theirs.id
        )
    assert refused.value.code is ErrorCode.THIS_ACCOUNT_SINGLE
    member = members.get_member(ctx, OPERATOR, world.a.id, theirs.id)
    assert member.membership.status is MembershipStatus.PENDING


def test_an_owner_who_never_accepted_holds_nothing(ctx: ServiceContext, world: World) -> None:
    theirs = make_member(ctx, world.b, role="admin")
    trap = accounts.create_account(
        ctx,
        as_user(world.host_admin),
        name="Trap",
        kind=AccountKind.ADVERTISER,
        parent_id=world.host.id,
        can_partner_manage=False,
        admin_email=theirs.email,
    )
    assert trap.owner_user_id == theirs.id
    # Their home admin still edits them, and other accounts still invite them: the
    # unaccepted ownership protects nothing and gates nothing.
    _rename(ctx, as_user(world.b_admin), world.b, theirs)
    third = make_account(ctx, parent=world.host, name="Third brand")
    added = members.add_member(ctx, OPERATOR, third.id, NewMember(_email_of(ctx, theirs), "view"))
    assert added.membership.status is MembershipStatus.PENDING


def test_an_owners_read_only_token_cannot_hand_ownership_over(
    ctx: ServiceContext, world: World
) -> None:
    owner = make_member(ctx, world.a, role="admin")
    accounts.transfer_ownership(ctx, OPERATOR, world.a.id, owner.id)
    _, token, _ = credentials.create_api_token(
        ctx, as_user(owner), world.a.id, user_email=owner.email, role_key="view"
    )
    read_only = credentials.authenticate(ctx, token, face="test")
    with pytest.raises(Forbidden):
        accounts.transfer_ownership(ctx, read_only, world.a.id, world.a_admin.id)
    assert accounts.get_account(ctx, OPERATOR, world.a.id).owner_user_id == owner.id


def test_declining_an_accounts_ownership_leaves_it_without_an_owner(
    ctx: ServiceContext, world: World
) -> None:
    email = unique_email("owner")
    owned = accounts.create_account(
        ctx,
        OPERATOR,
        name="Owned",
        kind=AccountKind.ADVERTISER,
        parent_id=world.host.id,
        admin_email=email,
    )
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
        assert user is not None
        [invitation] = uow.invitations.open_for(user.id, owned.id)
    token = "made-here"
    with ctx.uow() as uow:  # the link's token, as if it had been shown
        invitation.token_hash = hash_secret(token)
        uow.invitations.update(invitation)
    invitations.decline_invitation(ctx, token, email)
    assert accounts.get_account(ctx, OPERATOR, owned.id).owner_user_id is None
    assert members.list_members(ctx, OPERATOR, owned.id).items == []


def test_another_accounts_link_never_sets_the_password_of_an_identity(
    ctx: ServiceContext, world: World
) -> None:
    """B creates an identity and withdraws its invitation; A then invites the same address and
    is shown a link. That link must not let A choose the password of B's identity (and so
    take it over, move its address and join B through B's next invitation): only the link of
    the identity's home account, or the one only ever mailed, sets it."""
    email = unique_email("newhire")
    members.add_member(ctx, as_user(world.b_admin), world.b.id, NewMember(email, "admin"))
    invitations.revoke_invitation(ctx, as_user(world.b_admin), world.b.id, email)
    invited = members.add_member(ctx, as_user(world.a_admin), world.a.id, NewMember(email, "view"))
    assert invited.invitation_token is not None

    check = invitations.check_invitation(ctx, invited.invitation_token, email)
    assert (check.needs_password, check.needs_sign_in) == (False, True)
    with pytest.raises(Forbidden) as refused:
        invitations.accept_invitation(ctx, invited.invitation_token, email, "a-Long-passphrase-9")
    assert refused.value.code is ErrorCode.SIGN_IN_TO_ACCEPT
    with ctx.uow(readonly=True) as uow:
        user = uow.users.get(invited.user.id)
    assert (user.status, user.password_hash) == (UserStatus.PENDING, None)
    assert members.get_member(ctx, OPERATOR, world.a.id, user.id).membership.status is (
        MembershipStatus.PENDING
    )


def test_the_home_accounts_link_still_sets_the_password(ctx: ServiceContext, world: World) -> None:
    email = unique_email("newhire")
    added = members.add_member(ctx, as_user(world.b_admin), world.b.id, NewMember(email, "view"))
    assert added.invitation_token is not None
    assert invitations.check_invitation(ctx, added.invitation_token, email).needs_password
    user = invitations.accept_invitation(ctx, added.invitation_token, email, "a-Long-passphrase-9")
    assert user.status is UserStatus.ACTIVATED
    assert members.get_member(ctx, OPERATOR, world.b.id, user.id).membership.status is (
        MembershipStatus.ACTIVE
    )


def test_a_role_that_creates_accounts_but_is_below_admin_names_no_admin(
    ctx: ServiceContext, world: World
) -> None:
    roles.create_custom_role(
        ctx,
        OPERATOR,
        world.host.id,
        key="launcher",
        display_name="Launcher",
        capabilities={"account": {"child_accounts": "all"}},
    )
    launcher = make_member(ctx, world.host, role="launcher")
    before = accounts.list_accounts(ctx, OPERATOR, parent_id=world.host.id)
    with pytest.raises(Forbidden) as refused:
        accounts.create_account(
            ctx,
            as_user(launcher),
            name="Own fief",
            kind=AccountKind.ADVERTISER,
            parent_id=world.host.id,
            can_partner_manage=False,
            admin_email=launcher.email,
        )
    assert refused.value.field == "adminEmail"
    assert accounts.list_accounts(ctx, OPERATOR, parent_id=world.host.id) == before
    # Without an admin to name, it still creates accounts its partner manages.
    made = accounts.create_account(
        ctx,
        as_user(launcher),
        name="Managed brand",
        kind=AccountKind.ADVERTISER,
        parent_id=world.host.id,
    )
    assert made.owner_user_id is None
