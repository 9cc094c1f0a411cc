"""Adding, changing, removing and (de)activating members, on every engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotFound,
)
from tenantry.domain.ids import hash_secret
from tenantry.domain.invitations import InvitationStatus
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import accounts, invitations, members
from tenantry.services.catalogues import load_role_catalogue
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember
from tenantry.settings import CATALOGUE_DIR

from factories import (
    OPERATOR,
    World,
    activate,
    as_user,
    make_account,
    make_member,
    set_policy,
    unique_email,
)

STRONG_PASSWORD = "Correct-Horse-9-Battery"


def audit_count(ctx: ServiceContext) -> int:
    with ctx.uow(readonly=True) as uow:
        return len(uow.audit.query(account_ids=None, limit=10_000))


def find_user(ctx: ServiceContext, email: str) -> User | None:
    with ctx.uow(readonly=True) as uow:
        return uow.users.find_by_email(email)


def membership_of(ctx: ServiceContext, user_id: str, account_id: str) -> object:
    with ctx.uow(readonly=True) as uow:
        return uow.memberships.find(user_id, account_id)


def set_account(ctx: ServiceContext, account: Account, **changes: object) -> None:
    set_policy(ctx, account.id, **changes)


# -- adding ------------------------------------------------------------------------------------


def test_new_user_is_pending_with_an_invitation(ctx: ServiceContext, world: World) -> None:
    actor = as_user(world.a_admin)
    added = members.add_member(
        ctx,
        actor,
        world.a.id,
        NewMember(email="  Demi.Smith@Example.COM ", role_key="marketing", username="Demi Smith"),
    )
    assert not added.user_already_existed
    assert added.user.email == "demi.smith@example.com"
    assert added.user.name == "Demi Smith"
    assert added.user.status is UserStatus.PENDING
    assert added.membership.status is MembershipStatus.PENDING
    assert added.role.key == "marketing"
    assert added.invitation_token

    stored = find_user(ctx, "demi.smith@example.com")
    assert stored is not None
    assert stored.id == added.user.id
    assert stored.status is UserStatus.PENDING
    with ctx.uow(readonly=True) as uow:
        invitation = uow.invitations.find_by_token_hash(hash_secret(added.invitation_token))
        membership = uow.memberships.find(stored.id, world.a.id)
    assert invitation is not None
    assert invitation.user_id == stored.id
    assert invitation.account_id == world.a.id
    assert invitation.status(ctx.now()) is InvitationStatus.PENDING
    assert membership is not None
    assert membership.status is MembershipStatus.PENDING
    assert membership.role_key == "marketing"


def test_existing_active_user_is_pending_until_they_accept(
    ctx: ServiceContext, world: World
) -> None:
    """Consent: adding an identity that exists makes a pending membership and an invitation
    of this account's own; the owner accepts it signed in as themselves."""
    existing = make_member(ctx, world.b, role="marketing")
    added = members.add_member(
        ctx, as_user(world.a_admin), world.a.id, NewMember(email=existing.email, role_key="qa")
    )
    assert added.user_already_existed
    assert added.user.id == existing.id
    assert added.membership.status is MembershipStatus.PENDING
    assert added.invitation_token is not None
    page = members.list_members(ctx, as_user(world.a_admin), world.a.id)
    assert {m.user.email: m.role.key for m in page.items}[existing.email] == "qa"
    # Holding the link is not enough: the identity has a login, whose owner must sign in.
    with pytest.raises(Forbidden) as refused:
        invitations.accept_invitation(ctx, added.invitation_token, existing.email, "a-new-Pass-123")
    assert refused.value.code is ErrorCode.SIGN_IN_TO_ACCEPT
    with pytest.raises(Forbidden):
        invitations.accept_invitation(
            ctx, added.invitation_token, existing.email, None, signed_in_user_id=world.a_admin.id
        )
    assert members.get_member(ctx, OPERATOR, world.a.id, existing.id).membership.status is (
        MembershipStatus.PENDING
    )
    invitations.accept_invitation(
        ctx, added.invitation_token, existing.email, None, signed_in_user_id=existing.id
    )
    assert members.get_member(ctx, OPERATOR, world.a.id, existing.id).membership.status is (
        MembershipStatus.ACTIVE
    )


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_name_longer_than_its_column_is_refused(
    ctx: ServiceContext, world: World, field: str
) -> None:
    """Refused with a message naming the field, on PostgreSQL as on SQLite (where the column
    length is not enforced), and nothing is written."""
    email = unique_email("long")
    events = audit_count(ctx)
    spec = NewMember(email=email, role_key="marketing", **{field: "x" * 101})
    with pytest.raises(InvalidInput) as caught:
        members.add_member(ctx, OPERATOR, world.a.id, spec)
    assert caught.value.field == field
    assert "at most 100" in caught.value.message
    assert find_user(ctx, email) is None
    assert audit_count(ctx) == events
    fits = NewMember(email=email, role_key="marketing", **{field: "y" * 100})
    assert members.add_member(ctx, OPERATOR, world.a.id, fits).user.email == email


@pytest.mark.parametrize("spelling", ["same", "upper", "padded"])
def test_adding_a_member_twice_is_refused(ctx: ServiceContext, world: World, spelling: str) -> None:
    email = unique_email("twice")
    members.add_member(ctx, OPERATOR, world.a.id, NewMember(email=email, role_key="marketing"))
    again = {"same": email, "upper": email.upper(), "padded": f"  {email} "}[spelling]
    events = audit_count(ctx)
    with pytest.raises(Conflict) as caught:
        members.add_member(ctx, OPERATOR, world.a.id, NewMember(email=again, role_key="qa"))
    assert caught.value.code is ErrorCode.ALREADY_MEMBER
    assert caught.value.message == "This user already exists in this account."
    assert audit_count(ctx) == events
    user = find_user(ctx, email)
    assert user is not None
    with ctx.uow(readonly=True) as uow:
        membership = uow.memberships.find(user.id, world.a.id)
    assert membership is not None
    assert membership.role_key == "marketing"


# Each AppsFlyer rule, reached through real accounts: `setup` prepares the world and returns
# the e-mail to add and the account to add it to.
Setup = Callable[[ServiceContext, World], tuple[str, Account]]


def _pending_elsewhere(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = unique_email("pending")
    members.add_member(ctx, OPERATOR, world.b.id, NewMember(email=email, role_key="marketing"))
    return email, world.a


def _advertiser_user_to_partner(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    return make_member(ctx, world.a, role="marketing").email, world.host


def _advertiser_user_to_agency(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    return make_member(ctx, world.a, role="marketing").email, agency


def _partner_user_to_advertiser(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    return make_member(ctx, world.host, role="marketing").email, world.a


def _agency_user_to_advertiser(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    advertiser = make_account(ctx, parent=agency)
    return make_member(ctx, agency, role="marketing").email, advertiser


def _other_single(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = make_member(ctx, world.b, role="marketing").email
    set_account(ctx, world.b, multi_account_users=False)
    return email, world.a


def _this_single(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = make_member(ctx, world.b, role="marketing").email
    set_account(ctx, world.a, multi_account_users=False)
    return email, world.a


def _other_sso(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = make_member(ctx, world.b, role="marketing").email
    set_account(ctx, world.b, sso_enabled=True)
    return email, world.a


def _this_sso(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = make_member(ctx, world.b, role="marketing").email
    set_account(ctx, world.a, sso_enabled=True)
    return email, world.a


def _other_2fa(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = make_member(ctx, world.b, role="marketing").email
    set_account(ctx, world.b, two_factor_required=True)
    return email, world.a


def _this_2fa(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = make_member(ctx, world.b, role="marketing").email
    set_account(ctx, world.a, two_factor_required=True)
    return email, world.a


def _sso_elsewhere_and_2fa_here(ctx: ServiceContext, world: World) -> tuple[str, Account]:
    email = make_member(ctx, world.b, role="marketing").email
    set_account(ctx, world.b, sso_enabled=True)
    set_account(ctx, world.a, two_factor_required=True, multi_account_users=False)
    return email, world.a


MULTI_ACCOUNT_CASES: list[tuple[Setup, ErrorCode, str]] = [
    (
        _pending_elsewhere,
        ErrorCode.PENDING_ELSEWHERE,
        'This user can\'t be added because their status is "pending" in another account.',
    ),
    (
        _advertiser_user_to_partner,
        ErrorCode.ADVERTISER_USER_TO_AGENCY,
        "A user from an advertiser account can't be added to agency or partner accounts.",
    ),
    (
        _advertiser_user_to_agency,
        ErrorCode.ADVERTISER_USER_TO_AGENCY,
        "A user from an advertiser account can't be added to agency or partner accounts.",
    ),
    (
        _partner_user_to_advertiser,
        ErrorCode.AGENCY_USER_TO_ADVERTISER,
        "A user from an agency or a partner account can't be added to an advertiser account.",
    ),
    (
        _agency_user_to_advertiser,
        ErrorCode.AGENCY_USER_TO_ADVERTISER,
        "A user from an agency or a partner account can't be added to an advertiser account.",
    ),
    (
        _other_single,
        ErrorCode.OTHER_ACCOUNT_SINGLE,
        "This user is in another account that doesn't currently support users in multiple "
        "accounts.",
    ),
    (
        _this_single,
        ErrorCode.THIS_ACCOUNT_SINGLE,
        "This account doesn't currently support adding users in multiple accounts.",
    ),
    (
        _other_sso,
        ErrorCode.OTHER_ACCOUNT_SSO,
        "This user can't be added because they're in an account that uses SSO.",
    ),
    (
        _this_sso,
        ErrorCode.THIS_ACCOUNT_SSO,
        "This user can't be added because this account uses SSO.",
    ),
    (
        _other_2fa,
        ErrorCode.OTHER_ACCOUNT_2FA,
        "This user can't be added because they're in an account that uses 2FA.",
    ),
    (
        _this_2fa,
        ErrorCode.THIS_ACCOUNT_2FA,
        "This user can't be added because this account uses 2FA.",
    ),
    (
        _sso_elsewhere_and_2fa_here,
        ErrorCode.THIS_ACCOUNT_SINGLE,
        "This account doesn't currently support adding users in multiple accounts.",
    ),
]


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    MULTI_ACCOUNT_CASES,
    ids=[setup.__name__.strip("_") for setup, _, _ in MULTI_ACCOUNT_CASES],
)
def test_multi_account_rules(
    ctx: ServiceContext, world: World, setup: Setup, code: ErrorCode, message: str
) -> None:
    email, target = setup(ctx, world)
    user = find_user(ctx, email)
    assert user is not None
    events = audit_count(ctx)
    with pytest.raises(Conflict) as caught:
        members.add_member(
            ctx, as_user(world.host_admin), target.id, NewMember(email=email, role_key="marketing")
        )
    assert caught.value.code is code
    assert caught.value.message == message
    assert membership_of(ctx, user.id, target.id) is None
    assert find_user(ctx, email) == user
    assert audit_count(ctx) == events


def test_users_move_between_advertisers_of_one_partner_by_invitation(
    ctx: ServiceContext, world: World
) -> None:
    user = make_member(ctx, world.b, role="marketing")
    added = members.add_member(
        ctx, as_user(world.host_admin), world.a.id, NewMember(email=user.email, role_key="view")
    )
    # Even the partner that reaches both accounts asks the person first.
    assert added.membership.status is MembershipStatus.PENDING
    assert added.invitation_token is not None


@pytest.mark.parametrize("role_key", ["nope", "Super", "team_manager", "ADMIN", ""])
def test_unknown_role_is_refused(ctx: ServiceContext, world: World, role_key: str) -> None:
    email = unique_email()
    with pytest.raises(InvalidInput) as caught:
        members.add_member(ctx, OPERATOR, world.a.id, NewMember(email=email, role_key=role_key))
    assert caught.value.code is ErrorCode.UNKNOWN_ROLE
    assert caught.value.message == "The role was either misspelled or doesn\u2019t exist."
    assert find_user(ctx, email) is None


def test_role_not_applicable_to_the_account_kind(
    ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    doc = json.loads((CATALOGUE_DIR / "roles.json").read_text(encoding="utf-8"))
    for role in doc["roles"]:
        if role["key"] == "accounting":
            role["account_kinds"] = ["advertiser"]
    path = tmp_path / "roles.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    ctx.roles = load_role_catalogue(path)

    email = unique_email()
    with pytest.raises(InvalidInput) as caught:
        members.add_member(
            ctx, OPERATOR, world.host.id, NewMember(email=email, role_key="accounting")
        )
    assert caught.value.code is ErrorCode.ROLE_NOT_FOR_ACCOUNT_KIND
    assert find_user(ctx, email) is None
    added = members.add_member(
        ctx, OPERATOR, world.a.id, NewMember(email=email, role_key="accounting")
    )
    assert added.role.key == "accounting"


RESTRICTIONS: list[dict[str, object]] = [
    {"geos": ["us"]},
    {"media_sources": ["amplitude"]},
    {"app_ids": []},
    {"all_future_apps": False},
]


@pytest.mark.parametrize("role_key", ["admin", "security"])
@pytest.mark.parametrize("restriction", RESTRICTIONS, ids=lambda r: next(iter(r)))
def test_unrestricted_roles_with_restrictions_are_refused(
    ctx: ServiceContext, world: World, role_key: str, restriction: dict[str, object]
) -> None:
    email = unique_email()
    with pytest.raises(InvalidInput) as caught:
        members.add_member(
            ctx,
            OPERATOR,
            world.a.id,
            NewMember(email=email, role_key=role_key, **restriction),  # type: ignore[arg-type]
        )
    assert caught.value.code is ErrorCode.UNRESTRICTED_ROLE_RESTRICTED
    assert find_user(ctx, email) is None


def test_unknown_apps_are_refused_and_known_ones_kept(ctx: ServiceContext, world: World) -> None:
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.one")
    accounts.add_app(ctx, OPERATOR, world.a.id, "id123456")
    accounts.add_app(ctx, OPERATOR, world.b.id, "com.example.b-only")
    for apps in (["com.example.nope"], ["com.example.one", "nope"], ["com.example.b-only"]):
        email = unique_email()
        with pytest.raises(InvalidInput) as caught:
            members.add_member(
                ctx, OPERATOR, world.a.id, NewMember(email=email, role_key="qa", app_ids=apps)
            )
        assert caught.value.code is ErrorCode.UNKNOWN_APPS
        assert find_user(ctx, email) is None
    added = members.add_member(
        ctx,
        OPERATOR,
        world.a.id,
        NewMember(email=unique_email(), role_key="qa", app_ids=["id123456", "com.example.one"]),
    )
    member = members.get_member(ctx, OPERATOR, world.a.id, added.user.id)
    assert member.membership.scope.app_ids == ("id123456", "com.example.one")
    assert member.membership.scope.all_future_apps is False


def test_future_apps_need_all_apps(ctx: ServiceContext, world: World) -> None:
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.one")
    with pytest.raises(InvalidInput) as caught:
        members.add_member(
            ctx,
            OPERATOR,
            world.a.id,
            NewMember(
                email=unique_email(),
                role_key="qa",
                app_ids=["com.example.one"],
                all_future_apps=True,
            ),
        )
    assert caught.value.code is ErrorCode.FUTURE_APPS_NEED_ALL_APPS


def test_empty_app_list_means_no_app(ctx: ServiceContext, world: World) -> None:
    added = members.add_member(
        ctx, OPERATOR, world.a.id, NewMember(email=unique_email(), role_key="qa", app_ids=[])
    )
    scope = members.get_member(ctx, OPERATOR, world.a.id, added.user.id).membership.scope
    assert scope.app_ids == ()
    assert scope.all_future_apps is False


def test_missing_scope_means_everything(ctx: ServiceContext, world: World) -> None:
    added = members.add_member(
        ctx,
        OPERATOR,
        world.a.id,
        NewMember(email=unique_email(), role_key="qa", media_sources=[], geos=[]),
    )
    scope = members.get_member(ctx, OPERATOR, world.a.id, added.user.id).membership.scope
    assert scope.is_unrestricted


def test_media_sources_from_the_catalogue_any_case(ctx: ServiceContext, world: World) -> None:
    email = unique_email()
    with pytest.raises(InvalidInput) as caught:
        members.add_member(
            ctx,
            OPERATOR,
            world.a.id,
            NewMember(email=email, role_key="qa", media_sources=["amplitude", "myspace_int"]),
        )
    assert caught.value.code is ErrorCode.UNKNOWN_MEDIA_SOURCES
    assert find_user(ctx, email) is None
    added = members.add_member(
        ctx,
        OPERATOR,
        world.a.id,
        NewMember(email=email, role_key="qa", media_sources=["Amplitude", " AIRSHIP ", "airship"]),
    )
    scope = members.get_member(ctx, OPERATOR, world.a.id, added.user.id).membership.scope
    assert scope.media_sources == ("amplitude", "airship")


def test_geos_by_code_or_name_any_case_are_stored_as_alpha_2(
    ctx: ServiceContext, world: World
) -> None:
    added = members.add_member(
        ctx,
        OPERATOR,
        world.a.id,
        NewMember(
            email=unique_email(),
            role_key="qa",
            geos=["angola", "ARUBA", "us", "FRA", "Germany", "de"],
        ),
    )
    scope = members.get_member(ctx, OPERATOR, world.a.id, added.user.id).membership.scope
    assert scope.geos == ("AO", "AW", "US", "FR", "DE")


@pytest.mark.parametrize("geos", [["atlantis"], ["us", "narnia"], ["U S"]])
def test_unknown_geos_are_refused(ctx: ServiceContext, world: World, geos: list[str]) -> None:
    email = unique_email()
    with pytest.raises(InvalidInput) as caught:
        members.add_member(
            ctx, OPERATOR, world.a.id, NewMember(email=email, role_key="qa", geos=geos)
        )
    assert caught.value.code is ErrorCode.UNKNOWN_GEOS
    assert find_user(ctx, email) is None


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"email": "not-an-email"}, ErrorCode.INVALID_EMAIL),
        ({"username": "Dan <Smith>"}, ErrorCode.INVALID_USERNAME),
        ({"username": "d" * 101}, ErrorCode.USERNAME_TOO_LONG),
    ],
)
def test_bad_parameters_are_refused(
    ctx: ServiceContext, world: World, spec: dict[str, str], code: ErrorCode
) -> None:
    values = {"email": unique_email(), "role_key": "qa", **spec}
    events = audit_count(ctx)
    with pytest.raises(InvalidInput) as caught:
        members.add_member(ctx, OPERATOR, world.a.id, NewMember(**values))
    assert caught.value.code is code
    assert audit_count(ctx) == events


def test_who_may_add_whom(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")
    viewer = make_member(ctx, world.a, role="view")
    # A manager adds non-admins, not admins.
    members.add_member(
        ctx, as_user(manager), world.a.id, NewMember(email=unique_email(), role_key="marketing")
    )
    email = unique_email()
    with pytest.raises(Forbidden):
        members.add_member(
            ctx, as_user(manager), world.a.id, NewMember(email=email, role_key="admin")
        )
    assert find_user(ctx, email) is None
    # A viewer adds nobody; an admin of another account neither.
    for actor in (as_user(viewer), as_user(world.b_admin)):
        with pytest.raises(Forbidden):
            members.add_member(ctx, actor, world.a.id, NewMember(email=email, role_key="qa"))
    assert find_user(ctx, email) is None


def test_unknown_account_is_not_found(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(NotFound):
        members.add_member(
            ctx, OPERATOR, "zzzzzzzz", NewMember(email=unique_email(), role_key="qa")
        )


# -- changing roles ----------------------------------------------------------------------------


def test_last_admin_cannot_be_demoted(ctx: ServiceContext, world: World) -> None:
    host = as_user(world.host_admin)
    with pytest.raises(Conflict) as caught:
        members.change_role(ctx, host, world.a.id, world.a_admin.id, "manage")
    assert caught.value.code is ErrorCode.LAST_ADMIN
    assert members.get_member(ctx, host, world.a.id, world.a_admin.id).role.key == "admin"

    second = make_member(ctx, world.a, role="admin")
    changed = members.change_role(ctx, host, world.a.id, world.a_admin.id, "manage")
    assert changed.role.key == "manage"
    with pytest.raises(Conflict) as caught:
        members.change_role(ctx, host, world.a.id, second.id, "view")
    assert caught.value.code is ErrorCode.LAST_ADMIN


def test_a_pending_admin_does_not_count_as_an_admin(ctx: ServiceContext, world: World) -> None:
    make_member(ctx, world.a, role="admin", active=False)
    with pytest.raises(Conflict) as caught:
        members.change_role(ctx, OPERATOR, world.a.id, world.a_admin.id, "manage")
    assert caught.value.code is ErrorCode.LAST_ADMIN


def test_a_manager_cannot_promote_to_admin_or_touch_admins(
    ctx: ServiceContext, world: World
) -> None:
    manager = make_member(ctx, world.a, role="manage")
    worker = make_member(ctx, world.a, role="marketing")
    with pytest.raises(Forbidden):
        members.change_role(ctx, as_user(manager), world.a.id, worker.id, "admin")
    with pytest.raises(Forbidden):
        members.change_role(ctx, as_user(manager), world.a.id, manager.id, "admin")
    second_admin = make_member(ctx, world.a, role="admin")
    with pytest.raises(Forbidden):
        members.change_role(ctx, as_user(manager), world.a.id, second_admin.id, "view")
    assert members.get_member(ctx, OPERATOR, world.a.id, worker.id).role.key == "marketing"
    assert members.get_member(ctx, OPERATOR, world.a.id, second_admin.id).role.key == "admin"
    # What a manager may do: move a non-admin between non-admin roles.
    assert members.change_role(ctx, as_user(manager), world.a.id, worker.id, "qa").role.key == "qa"


def test_changing_to_an_unrestricted_role_needs_an_unrestricted_scope(
    ctx: ServiceContext, world: World
) -> None:
    worker = make_member(ctx, world.a, role="marketing", geos=["us"])
    with pytest.raises(InvalidInput) as caught:
        members.change_role(ctx, OPERATOR, world.a.id, worker.id, "security")
    assert caught.value.code is ErrorCode.UNRESTRICTED_ROLE_RESTRICTED
    assert members.get_member(ctx, OPERATOR, world.a.id, worker.id).role.key == "marketing"

    open_scope = NewMember(email=worker.email, role_key="security")
    changed = members.change_role(ctx, OPERATOR, world.a.id, worker.id, "security", open_scope)
    assert changed.role.key == "security"
    stored = members.get_member(ctx, OPERATOR, world.a.id, worker.id)
    assert stored.role.key == "security"
    assert stored.membership.scope.is_unrestricted


def test_change_role_with_a_scope_replaces_the_scope(ctx: ServiceContext, world: World) -> None:
    worker = make_member(ctx, world.a, role="marketing")
    new_scope = NewMember(
        email=worker.email, role_key="qa", geos=["France"], media_sources=["twitter"]
    )
    members.change_role(ctx, OPERATOR, world.a.id, worker.id, "qa", new_scope)
    stored = members.get_member(ctx, OPERATOR, world.a.id, worker.id)
    assert stored.role.key == "qa"
    assert stored.membership.scope.geos == ("FR",)
    assert stored.membership.scope.media_sources == ("twitter",)


def test_change_role_of_a_stranger_is_not_found(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(NotFound):
        members.change_role(ctx, OPERATOR, world.a.id, world.b_admin.id, "view")


# -- removing ----------------------------------------------------------------------------------


def test_last_admin_cannot_be_removed(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(Conflict) as caught:
        members.remove_member(ctx, as_user(world.host_admin), world.a.id, world.a_admin.id)
    assert caught.value.code is ErrorCode.LAST_ADMIN
    assert membership_of(ctx, world.a_admin.id, world.a.id) is not None


def test_one_of_two_admins_can_be_removed(ctx: ServiceContext, world: World) -> None:
    second = make_member(ctx, world.a, role="admin")
    members.remove_member(ctx, as_user(second), world.a.id, world.a_admin.id)
    assert membership_of(ctx, world.a_admin.id, world.a.id) is None
    assert find_user(ctx, world.a_admin.email) is not None  # the identity stays


def test_the_owner_cannot_be_removed(ctx: ServiceContext, world: World) -> None:
    other_admin = make_member(ctx, world.host, role="admin")
    with pytest.raises(Conflict) as caught:
        members.remove_member(ctx, as_user(other_admin), world.host.id, world.host_admin.id)
    assert caught.value.code is ErrorCode.OWNER_PROTECTED
    assert caught.value.message == "Can\u2019t delete account owner"
    assert membership_of(ctx, world.host_admin.id, world.host.id) is not None


def test_nobody_removes_themselves(ctx: ServiceContext, world: World) -> None:
    make_member(ctx, world.a, role="admin")
    with pytest.raises(Conflict) as caught:
        members.remove_member(ctx, as_user(world.a_admin), world.a.id, world.a_admin.id)
    assert caught.value.code is ErrorCode.SELF_DELETE
    assert membership_of(ctx, world.a_admin.id, world.a.id) is not None


def test_a_manager_cannot_remove_an_admin(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")
    make_member(ctx, world.a, role="admin")
    with pytest.raises(Forbidden):
        members.remove_member(ctx, as_user(manager), world.a.id, world.a_admin.id)
    assert membership_of(ctx, world.a_admin.id, world.a.id) is not None


def test_removing_a_pending_member_revokes_the_invitation(
    ctx: ServiceContext, world: World
) -> None:
    email = unique_email("invitee")
    added = members.add_member(
        ctx, as_user(world.a_admin), world.a.id, NewMember(email=email, role_key="marketing")
    )
    assert added.invitation_token is not None
    members.remove_member(ctx, as_user(world.a_admin), world.a.id, added.user.id)
    assert membership_of(ctx, added.user.id, world.a.id) is None
    with ctx.uow(readonly=True) as uow:
        invitation = uow.invitations.find_by_token_hash(hash_secret(added.invitation_token))
    assert invitation is not None
    assert invitation.status(ctx.now()) is InvitationStatus.REVOKED
    with pytest.raises(InvalidInput):
        invitations.accept_invitation(ctx, added.invitation_token, email, STRONG_PASSWORD)
    user = find_user(ctx, email)
    assert user is not None
    assert user.status is UserStatus.PENDING
    assert user.password_hash is None


def test_removing_a_stranger_is_not_found(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(NotFound):
        members.remove_member(ctx, OPERATOR, world.a.id, world.b_admin.id)


# -- activating --------------------------------------------------------------------------------


def test_deactivate_and_reactivate(ctx: ServiceContext, world: World) -> None:
    worker = make_member(ctx, world.a, role="marketing")
    admin = as_user(world.a_admin)
    assert members.set_user_active(ctx, admin, world.a.id, worker.id, False).status == 0
    stored = find_user(ctx, worker.email)
    assert stored is not None
    assert stored.status is UserStatus.DEACTIVATED
    assert members.set_user_active(ctx, admin, world.a.id, worker.id, True).status == 1
    stored = find_user(ctx, worker.email)
    assert stored is not None
    assert stored.status is UserStatus.ACTIVATED


def test_reactivating_a_pending_user_leaves_them_pending(ctx: ServiceContext, world: World) -> None:
    pending = make_member(ctx, world.a, role="marketing", active=False)
    events = audit_count(ctx)
    user = members.set_user_active(ctx, OPERATOR, world.a.id, pending.id, True)
    assert user.status is UserStatus.PENDING
    assert audit_count(ctx) == events


def test_nobody_deactivates_themselves_nor_the_last_admin(
    ctx: ServiceContext, world: World
) -> None:
    with pytest.raises(Conflict) as caught:
        members.set_user_active(ctx, as_user(world.a_admin), world.a.id, world.a_admin.id, False)
    assert caught.value.code is ErrorCode.SELF_DELETE
    with pytest.raises(Conflict) as caught:
        members.set_user_active(ctx, as_user(world.host_admin), world.a.id, world.a_admin.id, False)
    assert caught.value.code is ErrorCode.LAST_ADMIN
    stored = find_user(ctx, world.a_admin.email)
    assert stored is not None
    assert stored.status is UserStatus.ACTIVATED


def test_deactivated_admins_do_not_keep_an_account_administered(
    ctx: ServiceContext, world: World
) -> None:
    second = make_member(ctx, world.a, role="admin")
    host = as_user(world.host_admin)
    members.set_user_active(ctx, host, world.a.id, second.id, False)
    with pytest.raises(Conflict) as caught:
        members.set_user_active(ctx, host, world.a.id, world.a_admin.id, False)
    assert caught.value.code is ErrorCode.LAST_ADMIN


# -- listing -----------------------------------------------------------------------------------


def _all_pages(ctx: ServiceContext, world: World, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = members.list_members(
            ctx, as_user(world.a_admin), world.a.id, limit=limit, after=cursor
        )
        pages.append([m.user.email for m in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
        assert len(pages) < 10, "the cursor does not advance"


def test_list_members_pages_without_duplicates_or_gaps(ctx: ServiceContext, world: World) -> None:
    added = [make_member(ctx, world.a, role="qa", active=False).email for _ in range(25)]
    pages = _all_pages(ctx, world, limit=10)
    assert [len(p) for p in pages] == [10, 10, 6]
    seen = [email for page in pages for email in page]
    assert seen == [world.a_admin.email, *added]  # joining order


def test_members_who_joined_at_the_same_instant_page_cleanly(
    ctx: ServiceContext, world: World
) -> None:
    frozen = ctx.now()
    ctx.clock = lambda: frozen
    added = {make_member(ctx, world.a, role="qa", active=False).email for _ in range(25)}
    pages = _all_pages(ctx, world, limit=10)
    seen = [email for page in pages for email in page]
    assert [len(p) for p in pages] == [10, 10, 6]
    assert len(seen) == len(set(seen))
    assert set(seen) == added | {world.a_admin.email}


def test_list_members_filters(ctx: ServiceContext, world: World) -> None:
    make_member(ctx, world.a, role="qa", email="findme.one@example.com")
    make_member(ctx, world.a, role="marketing", email="other@example.com", username="Find Me Too")
    actor = as_user(world.a_admin)
    found = members.list_members(ctx, actor, world.a.id, search="FINDME")
    assert [m.user.email for m in found.items] == ["findme.one@example.com"]
    by_role = members.list_members(ctx, actor, world.a.id, role_key="marketing")
    assert [m.user.email for m in by_role.items] == ["other@example.com"]
    wildcard = members.list_members(ctx, actor, world.a.id, search="%")
    assert wildcard.items == []


def test_members_of_another_account_are_not_listed(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(Forbidden):
        members.list_members(ctx, as_user(world.a_admin), world.b.id)


def test_the_partner_reads_its_advertisers_members(ctx: ServiceContext, world: World) -> None:
    page = members.list_members(ctx, as_user(world.host_admin), world.a.id)
    assert [m.user.id for m in page.items] == [world.a_admin.id]


def test_activate_helper_matches_accepting(ctx: ServiceContext, world: World) -> None:
    # The factories' shortcut must agree with the real flow, or the tests above prove little.
    email = unique_email()
    added = members.add_member(ctx, OPERATOR, world.a.id, NewMember(email=email, role_key="qa"))
    assert added.invitation_token is not None
    invitations.accept_invitation(ctx, added.invitation_token, email, STRONG_PASSWORD)
    real = members.get_member(ctx, OPERATOR, world.a.id, added.user.id)
    other = make_member(ctx, world.a, role="qa", active=False)
    activate(ctx, other.id, world.a.id)
    shortcut = members.get_member(ctx, OPERATOR, world.a.id, other.id)
    assert real.membership.status is shortcut.membership.status is MembershipStatus.ACTIVE
    assert real.user.status is shortcut.user.status is UserStatus.ACTIVATED
