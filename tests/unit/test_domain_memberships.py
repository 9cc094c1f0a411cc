"""Scopes, AppsFlyer's multi-account rules and the rules that protect admins and owners."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput
from tenantry.domain.memberships import (
    UNRESTRICTED,
    Membership,
    MembershipStatus,
    Scope,
    check_can_join,
    check_keeps_an_admin,
    check_not_self,
    check_role_for_account,
    check_scope_for_role,
)
from tenantry.domain.roles import AccessLevel, Role
from tenantry.services.context import Actor
from tenantry.services.policy import OwnerChange, check_owner_kept, check_removable

PROPERTY = settings(database=None, max_examples=100)


def make_role(
    key: str = "marketing",
    *,
    admin_like: bool = False,
    unrestricted: bool = False,
    kinds: frozenset[AccountKind] = frozenset(AccountKind),
    account_id: str | None = None,
) -> Role:
    admins = AccessLevel.ALL if admin_like else AccessLevel.BLOCKED
    return Role(
        key=key,
        display_name=key.title(),
        capabilities={"user_management": {"users": AccessLevel.ALL, "admins": admins}},
        account_kinds=kinds,
        unrestricted_scope=unrestricted,
        account_id=account_id,
    )


def account(kind: AccountKind = AccountKind.ADVERTISER, **options: object) -> Account:
    return Account(id=f"acc{next_id()}", name="Account", kind=kind, **options)  # type: ignore[arg-type]


_counter = iter(range(10_000, 99_999))


def next_id() -> int:
    return next(_counter)


def membership(
    target: Account, status: MembershipStatus = MembershipStatus.ACTIVE, role: str = "marketing"
) -> Membership:
    return Membership(user_id="u1", account_id=target.id, role_key=role, status=status)


# -- Scope.build -------------------------------------------------------------------------------


def test_missing_app_ids_mean_all_apps_and_future_ones() -> None:
    scope = Scope.build(app_ids=None, all_future_apps=True, media_sources=None, geos=None)
    assert scope.app_ids is None
    assert scope.all_future_apps
    assert scope.is_unrestricted
    assert scope == UNRESTRICTED


def test_empty_app_ids_mean_no_app() -> None:
    scope = Scope.build(app_ids=[], all_future_apps=False, media_sources=None, geos=None)
    assert scope.app_ids == ()
    assert not scope.all_future_apps
    assert not scope.is_unrestricted


def test_specific_apps_are_kept_in_order_without_duplicates() -> None:
    scope = Scope.build(
        app_ids=["my_app2", "my_app1", "my_app2"],
        all_future_apps=False,
        media_sources=None,
        geos=None,
    )
    assert scope.app_ids == ("my_app2", "my_app1")


@pytest.mark.parametrize("apps", [[], ["my_app1"], ["my_app1", "my_app2"]])
def test_all_future_apps_with_restricted_apps_is_refused(apps: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        Scope.build(app_ids=apps, all_future_apps=True, media_sources=None, geos=None)
    assert caught.value.code is ErrorCode.FUTURE_APPS_NEED_ALL_APPS
    assert caught.value.message == (
        '"Allow access to all future apps" can be "true" only when there is access to all app IDs.'
    )
    assert caught.value.field == "allow_access_to_all_future_apps"


def test_all_current_apps_without_future_ones_is_restricted() -> None:
    scope = Scope.build(app_ids=None, all_future_apps=False, media_sources=None, geos=None)
    assert scope.app_ids is None
    assert not scope.is_unrestricted


@pytest.mark.parametrize("empty", [None, [], ()])
def test_empty_or_missing_media_sources_and_geos_mean_all(empty: list[str] | None) -> None:
    scope = Scope.build(app_ids=None, all_future_apps=True, media_sources=empty, geos=empty)
    assert scope.media_sources is None
    assert scope.geos is None
    assert scope.is_unrestricted


def test_specific_media_sources_and_geos_restrict() -> None:
    scope = Scope.build(
        app_ids=None,
        all_future_apps=True,
        media_sources=["amplitude", "airship", "amplitude"],
        geos=["AO", "AW"],
    )
    assert scope.media_sources == ("amplitude", "airship")
    assert scope.geos == ("AO", "AW")
    assert not scope.is_unrestricted


@PROPERTY
@given(
    apps=st.one_of(st.none(), st.lists(st.sampled_from(["a1", "a2", "a3"]))),
    future=st.booleans(),
    sources=st.one_of(st.none(), st.lists(st.sampled_from(["s1", "s2"]))),
    geos=st.one_of(st.none(), st.lists(st.sampled_from(["US", "FR"]))),
)
def test_scope_is_unrestricted_exactly_when_nothing_is_limited(
    apps: list[str] | None, future: bool, sources: list[str] | None, geos: list[str] | None
) -> None:
    if future and apps is not None:
        with pytest.raises(InvalidInput):
            Scope.build(app_ids=apps, all_future_apps=future, media_sources=sources, geos=geos)
        return
    scope = Scope.build(app_ids=apps, all_future_apps=future, media_sources=sources, geos=geos)
    assert scope.is_unrestricted == (apps is None and future and not sources and not geos)


# -- check_scope_for_role ----------------------------------------------------------------------

RESTRICTED_SCOPES = [
    Scope(app_ids=("my_app1",), all_future_apps=False),
    Scope(app_ids=(), all_future_apps=False),
    Scope(all_future_apps=False),
    Scope(media_sources=("amplitude",)),
    Scope(geos=("US",)),
]


@pytest.mark.parametrize("scope", RESTRICTED_SCOPES)
def test_unrestricted_roles_refuse_any_restriction(scope: Scope) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_scope_for_role(make_role("admin", admin_like=True, unrestricted=True), scope)
    assert caught.value.code is ErrorCode.UNRESTRICTED_ROLE_RESTRICTED
    assert caught.value.message == (
        "Admin and Security roles must have unrestricted access to apps, media sources, and "
        "geos. These fields must be empty."
    )


@pytest.mark.parametrize("scope", [*RESTRICTED_SCOPES, UNRESTRICTED])
def test_other_roles_take_any_scope(scope: Scope) -> None:
    check_scope_for_role(make_role("marketing"), scope)


def test_unrestricted_roles_take_the_unrestricted_scope() -> None:
    check_scope_for_role(make_role("security", unrestricted=True), UNRESTRICTED)


# -- check_role_for_account --------------------------------------------------------------------


def test_role_for_other_kinds_of_account_is_refused() -> None:
    role = make_role("agency_only", kinds=frozenset({AccountKind.AGENCY}))
    check_role_for_account(role, account(AccountKind.AGENCY))
    with pytest.raises(InvalidInput) as caught:
        check_role_for_account(role, account(AccountKind.ADVERTISER))
    assert caught.value.code is ErrorCode.ROLE_NOT_FOR_ACCOUNT_KIND


def test_custom_role_of_another_account_is_unknown() -> None:
    mine, other = account(), account()
    role = make_role("custom", account_id=mine.id)
    check_role_for_account(role, mine)
    with pytest.raises(InvalidInput) as caught:
        check_role_for_account(role, other)
    assert caught.value.code is ErrorCode.UNKNOWN_ROLE


# -- check_can_join: AppsFlyer's multi-account rules, in its order ---------------------------

# Each rule with the document's text, word for word, and a way to make it apply to (target, other):
# the user joins `target` while being a member of `other`.
Setup = Callable[[Account, Account, Membership], None]


def _pending(target: Account, other: Account, m: Membership) -> None:
    m.status = MembershipStatus.PENDING


def _advertiser_to_host(target: Account, other: Account, m: Membership) -> None:
    other.kind, target.kind = AccountKind.ADVERTISER, AccountKind.AGENCY


def _host_to_advertiser(target: Account, other: Account, m: Membership) -> None:
    other.kind, target.kind = AccountKind.PARTNER, AccountKind.ADVERTISER


def _other_single(target: Account, other: Account, m: Membership) -> None:
    other.multi_account_users = False


def _this_single(target: Account, other: Account, m: Membership) -> None:
    target.multi_account_users = False


def _other_sso(target: Account, other: Account, m: Membership) -> None:
    other.sso_enabled = True


def _this_sso(target: Account, other: Account, m: Membership) -> None:
    target.sso_enabled = True


def _other_2fa(target: Account, other: Account, m: Membership) -> None:
    other.two_factor_required = True


def _this_2fa(target: Account, other: Account, m: Membership) -> None:
    target.two_factor_required = True


SEED_RULES: list[tuple[ErrorCode, str, Setup]] = [
    (
        ErrorCode.PENDING_ELSEWHERE,
        'This user can\'t be added because their status is "pending" in another account.',
        _pending,
    ),
    (
        ErrorCode.ADVERTISER_USER_TO_AGENCY,
        "A user from an advertiser account can't be added to agency or partner accounts.",
        _advertiser_to_host,
    ),
    (
        ErrorCode.AGENCY_USER_TO_ADVERTISER,
        "A user from an agency or a partner account can't be added to an advertiser account.",
        _host_to_advertiser,
    ),
    (
        ErrorCode.OTHER_ACCOUNT_SINGLE,
        "This user is in another account that doesn't currently support users in multiple "
        "accounts.",
        _other_single,
    ),
    (
        ErrorCode.THIS_ACCOUNT_SINGLE,
        "This account doesn't currently support adding users in multiple accounts.",
        _this_single,
    ),
    (
        ErrorCode.OTHER_ACCOUNT_SSO,
        "This user can't be added because they're in an account that uses SSO.",
        _other_sso,
    ),
    (
        ErrorCode.THIS_ACCOUNT_SSO,
        "This user can't be added because this account uses SSO.",
        _this_sso,
    ),
    (
        ErrorCode.OTHER_ACCOUNT_2FA,
        "This user can't be added because they're in an account that uses 2FA.",
        _other_2fa,
    ),
    (
        ErrorCode.THIS_ACCOUNT_2FA,
        "This user can't be added because this account uses 2FA.",
        _this_2fa,
    ),
]
RULE_IDS = [code.value for code, _, _ in SEED_RULES]


def _join(setups: list[Setup]) -> None:
    target, other = account(), account()
    m = membership(other)
    for setup in setups:
        setup(target, other, m)
    check_can_join(target, [(m, other)])


def test_a_user_without_other_accounts_may_join_anything() -> None:
    closed = account(
        AccountKind.PARTNER, multi_account_users=False, sso_enabled=True, two_factor_required=True
    )
    check_can_join(closed, [])


def test_active_member_of_a_plain_advertiser_may_join_another() -> None:
    _join([])


@pytest.mark.parametrize(("code", "message", "setup"), SEED_RULES, ids=RULE_IDS)
def test_each_rule_alone_refuses_with_the_seed_message(
    code: ErrorCode, message: str, setup: Setup
) -> None:
    with pytest.raises(Conflict) as caught:
        _join([setup])
    assert caught.value.code is code
    assert caught.value.message == message
    assert str(caught.value) == message
    assert caught.value.field == "email"


@pytest.mark.parametrize("position", range(len(SEED_RULES)), ids=RULE_IDS)
def test_earlier_rule_wins_over_every_later_one(position: int) -> None:
    code = SEED_RULES[position][0]
    later = [setup for _, _, setup in SEED_RULES[position:]]
    # The two kind rules contradict each other; keep only the one at this position.
    if code is ErrorCode.ADVERTISER_USER_TO_AGENCY:
        later.remove(_host_to_advertiser)
    with pytest.raises(Conflict) as caught:
        _join(later)
    assert caught.value.code is code


_KIND_RULES = (1, 2)  # advertiser→host and host→advertiser can't both hold for one pair


@PROPERTY
@given(st.sets(st.sampled_from(range(len(SEED_RULES)))))
def test_first_applying_rule_in_seed_order_is_reported(chosen: set[int]) -> None:
    if set(_KIND_RULES) <= chosen:
        chosen.discard(_KIND_RULES[1])
    ordered = sorted(chosen)
    setups = [SEED_RULES[i][2] for i in ordered]
    if not ordered:
        _join(setups)
        return
    with pytest.raises(Conflict) as caught:
        _join(setups)
    assert caught.value.code is SEED_RULES[ordered[0]][0]


def test_any_pending_membership_among_several_refuses() -> None:
    target = account()
    first, second = account(), account()
    with pytest.raises(Conflict) as caught:
        check_can_join(
            target,
            [
                (membership(first), first),
                (membership(second, MembershipStatus.PENDING), second),
            ],
        )
    assert caught.value.code is ErrorCode.PENDING_ELSEWHERE


@pytest.mark.parametrize("host_kind", [AccountKind.PARTNER, AccountKind.AGENCY])
def test_partner_and_agency_users_move_between_host_accounts(host_kind: AccountKind) -> None:
    target = account(AccountKind.AGENCY)
    other = account(host_kind)
    check_can_join(target, [(membership(other), other)])


@pytest.mark.parametrize("target_kind", [AccountKind.PARTNER, AccountKind.AGENCY])
def test_advertiser_user_to_either_host_kind_is_refused(target_kind: AccountKind) -> None:
    target, other = account(target_kind), account(AccountKind.ADVERTISER)
    with pytest.raises(Conflict) as caught:
        check_can_join(target, [(membership(other), other)])
    assert caught.value.code is ErrorCode.ADVERTISER_USER_TO_AGENCY


@pytest.mark.parametrize("other_kind", [AccountKind.PARTNER, AccountKind.AGENCY])
def test_either_host_kind_user_to_advertiser_is_refused(other_kind: AccountKind) -> None:
    target, other = account(AccountKind.ADVERTISER), account(other_kind)
    with pytest.raises(Conflict) as caught:
        check_can_join(target, [(membership(other), other)])
    assert caught.value.code is ErrorCode.AGENCY_USER_TO_ADVERTISER


# -- check_keeps_an_admin ----------------------------------------------------------------------

ADMIN = make_role("admin", admin_like=True, unrestricted=True)
MANAGER = make_role("manage")


def _admin_membership(status: MembershipStatus = MembershipStatus.ACTIVE) -> Membership:
    return Membership("u1", "acc1", "admin", status)


@pytest.mark.parametrize("new_role", [None, MANAGER], ids=["remove", "demote"])
def test_last_active_admin_cannot_be_removed_or_demoted(new_role: Role | None) -> None:
    with pytest.raises(Conflict) as caught:
        check_keeps_an_admin(ADMIN, _admin_membership(), new_role, active_admins=1)
    assert caught.value.code is ErrorCode.LAST_ADMIN


@pytest.mark.parametrize("new_role", [None, MANAGER], ids=["remove", "demote"])
def test_one_of_two_admins_can_go(new_role: Role | None) -> None:
    check_keeps_an_admin(ADMIN, _admin_membership(), new_role, active_admins=2)


def test_last_admin_may_move_to_another_admin_like_role() -> None:
    other_admin = make_role("super", admin_like=True)
    check_keeps_an_admin(ADMIN, _admin_membership(), other_admin, active_admins=1)


def test_pending_admin_is_not_the_last_admin() -> None:
    check_keeps_an_admin(ADMIN, _admin_membership(MembershipStatus.PENDING), None, active_admins=1)


def test_non_admins_are_never_protected() -> None:
    m = Membership("u1", "acc1", "manage", MembershipStatus.ACTIVE)
    check_keeps_an_admin(MANAGER, m, None, active_admins=0)


# -- check_not_self and the owner's protection ----------------------------------------------


def test_nobody_removes_themselves() -> None:
    with pytest.raises(Conflict) as caught:
        check_not_self("u1", "u1")
    assert caught.value.code is ErrorCode.SELF_DELETE
    assert caught.value.message == "Can\u2019t delete your own user"


def test_the_owner_cannot_be_removed() -> None:
    with pytest.raises(Conflict) as caught:
        check_owner_kept(account(owner_user_id="owner"), "owner", OwnerChange.REMOVE)
    assert caught.value.code is ErrorCode.OWNER_PROTECTED
    assert caught.value.message == "Can\u2019t delete account owner"


@pytest.mark.parametrize("change", [OwnerChange.DEACTIVATE, OwnerChange.DEMOTE])
def test_the_owner_can_be_neither_deactivated_nor_demoted(change: OwnerChange) -> None:
    with pytest.raises(Conflict) as caught:
        check_owner_kept(account(owner_user_id="owner"), "owner", change)
    assert caught.value.code is ErrorCode.OWNER_PROTECTED
    assert "owner" in caught.value.message


def test_system_actors_still_cannot_remove_the_owner() -> None:
    with pytest.raises(Conflict):
        check_removable(account(owner_user_id="owner"), "owner", Actor.system())


def test_others_are_removable() -> None:
    check_not_self("u2", "u1")
    check_not_self("u2", None)
    for change in OwnerChange:
        check_owner_kept(account(owner_user_id="owner"), "u2", change)
