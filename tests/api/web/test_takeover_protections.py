"""The rest of the security review's attacks, each through the faces that reach it, refused by
the one policy, next to what the legitimate path does instead:

4. a `manage` member renames another member over SCIM; an admin renames a member who also
   belongs to another account;
5. a custom role that manages users and API access (but not admins) mints an API account and
   uses it, or the console, to make someone an admin;
6. a parent turns partner management back on after the account's own admins turned it off,
   and reads the account's users; a deactivated account's own admin keeps acting, or lifts
   the deactivation;
7. an admin demotes, removes or deactivates the account's owner; ownership moves only by the
   owner's own transfer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tenantry.domain.accounts import Account, AccountStatus
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import credentials, roles
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, accept, audit, person, text_of
from factories import OPERATOR, as_user, make_account, make_member
from httpclient import HttpClient
from mailserver import Inbox
from takeover_support import (
    ADDRESS_CHANGED,
    CHANGE_ROLE,
    SCIM_USER,
    TENANT_USERS,
    TRANSFER_OWNERSHIP,
    UPDATE_TENANT,
    Scene,
    build_scene,
    cli,
    csrf_of,
    invitation_mail_link,
    only_error,
    scim_error,
    shown_secret,
    signed_in,
)

NOT_IDENTITY_OWNER = "Only the person, or an admin of the account that created this user"
CREDENTIAL_ABOVE_MAKER = "A credential can't have a role with more rights than your own."
OWNER_NOT_DEMOTED = "The account owner's role can't be changed"
OWNER_NOT_REMOVED = "Can\u2019t delete account owner"
OWNER_NOT_DEACTIVATED = "The account owner can't be deactivated."
DEACTIVATED = "deactivated"


@pytest.fixture
def scene(ctx: ServiceContext, client: HttpClient, database_url: str, host: Host) -> Scene:
    return build_scene(ctx, client, database_url, host)


def _untouched(scene: Scene, user_id: str, email: str, inbox: Inbox) -> None:
    """The member still has its address, and nothing was changed or announced."""
    assert scene.user_by_id(user_id).email == email
    assert [e for e in audit(scene.ctx, "user.update") if e.target_id == user_id] == []
    assert not [m for m in inbox.messages if m["Subject"] == ADDRESS_CHANGED]


# -- 4. renaming somebody else ------------------------------------------------------------------


def test_a_manager_cannot_rename_another_member_over_scim(scene: Scene, inbox: Inbox) -> None:
    manager = make_member(scene.ctx, scene.a, role="manage")
    member = make_member(scene.ctx, scene.a, role="member")
    assert member.home_account_id == scene.a.id
    made = cli(
        scene.database_url,
        "tokens", "create", "--account", scene.a.id, "--user", manager.email, "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)["token"]
    # The manager's token does manage the member otherwise: it reads them.
    assert scene.scim("GET", f"/Users/{member.id}", token).status_code == 200

    # Okta's way: replace with a value object that carries userName.
    refused = scene.scim_patch(
        token, member.id, {"op": "replace", "value": {"userName": "mine@attacker.example"}}
    )
    assert NOT_IDENTITY_OWNER in scim_error(refused, 403)
    # Entra ID's way, and a PUT of the whole user: refused alike.
    refused = scene.scim_patch(
        token, member.id, {"op": "Replace", "path": "userName", "value": "mine@attacker.example"}
    )
    assert NOT_IDENTITY_OWNER in scim_error(refused, 403)
    resource = scene.scim("GET", f"/Users/{member.id}", token).json()
    resource["userName"] = "mine@attacker.example"
    resource["emails"] = [{"primary": True, "value": "mine@attacker.example", "type": "work"}]
    replaced = scene.scim("PUT", f"/Users/{member.id}", token, json=resource)
    assert NOT_IDENTITY_OWNER in scim_error(replaced, 403)
    _untouched(scene, member.id, member.email, inbox)
    assert scene.user_by_id(member.id).email_verified_at == member.email_verified_at


def test_an_admin_cannot_rename_a_member_who_also_belongs_elsewhere(
    scene: Scene, inbox: Inbox
) -> None:
    shared = make_member(scene.ctx, scene.a, role="member")
    make_member(scene.ctx, scene.b, role="view", email=shared.email)
    assert scene.status_in(scene.b, shared.email) is MembershipStatus.ACTIVE

    refused = scene.scim_patch(
        scene.a_token,
        shared.id,
        {"op": "Replace", "path": "userName", "value": "renamed@attacker.example"},
    )
    assert NOT_IDENTITY_OWNER in scim_error(refused, 403)
    _untouched(scene, shared.id, shared.email, inbox)

    # The same admin renames a member who is in A alone: A is its home and its only account.
    alone = make_member(scene.ctx, scene.a, role="member")
    renamed = scene.scim_patch(
        scene.a_token, alone.id, {"op": "Replace", "path": "userName", "value": "new@a.example"}
    )
    assert renamed.status_code == 200, renamed.text
    assert scene.user_by_id(alone.id).email == "new@a.example"


# -- 5. a custom role that manages users and API access, not admins -----------------------------


def test_a_custom_role_cannot_reach_admin_through_an_api_account(
    scene: Scene, new_browser: Callable[..., Browser]
) -> None:
    account = scene.a
    roles.create_custom_role(
        scene.ctx,
        OPERATOR,
        account.id,
        key="user_lead",
        display_name="User lead",
        capabilities={
            "user_management": {"users": "all", "admins": "blocked"},
            "account": {"settings": "read", "api_access": "all"},
        },
    )
    holder_email = person(scene.ctx, account, role="user_lead")
    holder = scene.user(holder_email)
    target = make_member(scene.ctx, account, role="view")
    lead = signed_in(new_browser(), holder_email)

    # The holder creates an API account in the console: it acts with the holder's own role.
    api_access = f"/hub/accounts/{account.id}/api-access"
    created = lead.submit(lead.get(api_access), f"{api_access}/accounts", client_id="leadbot")
    assert created.status_code == 200, text_of(created)
    assert "user_lead" in text_of(created)
    issued = scene.client.post(
        "/clients/token",
        data={
            "client_id": "leadbot",
            "client_secret": shown_secret(created),
            "grant_type": "client_credentials",
        },
    )
    assert issued.status_code == 200, issued.text
    bot = issued.json()["access_token"]

    # GraphQL: neither the view member nor the holder becomes an admin, nor does a newcomer.
    for user_id, current in ((target.id, "view"), (holder.id, "user_lead")):
        body = scene.graphql(
            bot,
            CHANGE_ROLE,
            {
                "input": {
                    "userId": user_id,
                    "roleToRevoke": f"advertiser-{current}-{account.id}",
                    "roleToAdd": f"advertiser-admin-{account.id}",
                }
            },
        )
        error = only_error(body)
        assert error["extensions"]["code"] == 401, error
        assert error["extensions"]["reason"] == "forbidden", error
        assert scene.role_in(account, user_id) == current
    body = scene.graphql(
        bot,
        """mutation add($input: AddUserWithRoleInput!) {
          userMutations { addUserWithRole(input: $input) { invitationLink } } }""",
        {"input": {"email": "sidekick@a.example", "roleName": f"advertiser-admin-{account.id}"}},
    )
    assert only_error(body)["extensions"]["code"] == 401
    # The bulk API: adding an admin is refused too.
    item = {
        "email": "sidekick@a.example",
        "username": "Side Kick",
        "role": "admin",
        "allow_access_to_all_future_apps": True,
    }
    response = scene.bulk("POST", "/users", bot, json=[item])
    assert response.status_code in (401, 422), response.text
    with scene.ctx.uow(readonly=True) as uow:
        assert uow.users.find_by_email("sidekick@a.example") is None

    # The console, as the holder: no admin role for the member, no admin credential either.
    user_url = f"/hub/accounts/{account.id}/users/{target.id}"
    promoted = lead.submit(lead.get(user_url), f"{user_url}/role", role="admin")
    assert promoted.status_code == 403, text_of(promoted)
    assert scene.role_in(account, target.id) == "view"
    admin_bot = lead.submit(
        lead.get(api_access), f"{api_access}/accounts", client_id="adminbot", role="admin"
    )
    assert admin_bot.status_code == 403, text_of(admin_bot)
    assert CREDENTIAL_ABOVE_MAKER in text_of(admin_bot)
    as_admin = lead.submit(
        lead.get(api_access),
        f"{api_access}/tokens",
        name="as admin",
        user_email=scene.a_admin.email,
    )
    assert as_admin.status_code == 403, text_of(as_admin)
    with scene.ctx.uow(readonly=True) as uow:
        assert uow.api_accounts.find_by_client_id("adminbot") is None
        leadbot = uow.api_accounts.find_by_client_id("leadbot")
        assert leadbot is not None
        assert leadbot.role_key == "user_lead"
        tokens = uow.api_tokens.for_account(account.id)
    assert not [t for t in tokens if t.user_id == scene.a_admin.id and t.name == "as admin"]


# -- 6. the account tree: partner management and deactivation ----------------------------------


def test_a_parent_cannot_turn_partner_management_back_on(
    scene: Scene, new_browser: Callable[..., Browser]
) -> None:
    b = scene.b
    host_admin = signed_in(new_browser(), person(scene.ctx, scene.host.account, role="admin"))
    read_users = {"query": TENANT_USERS, "variables": {"tenantId": b.id}}
    headers = {"Authorization": f"Bearer {scene.host.token}"}
    # While partner management is on, the parent side reads B's users.
    assert host_admin.get(f"/hub/accounts/{b.id}/users").status_code == 200
    assert (
        scene.b_admin.email
        in scene.client.post("/hub/graphql/", json=read_users, headers=headers).text
    )

    off = scene.graphql(
        scene.b_token, UPDATE_TENANT, {"input": {"tenantId": b.id, "canPartnerManage": False}}
    )
    assert "errors" not in off, off
    assert off["data"]["tenantMutations"]["updateTenant"]["tenant"]["canPartnerManage"] is False

    # The parent's admin (the host's API account) can't switch it back on...
    on = scene.graphql(
        scene.host.token, UPDATE_TENANT, {"input": {"tenantId": b.id, "canPartnerManage": True}}
    )
    error = only_error(on)
    assert error["extensions"]["code"] == 401, error
    assert error["extensions"]["type"] == "UNAUTHORIZED", error
    assert error["extensions"]["reason"] == "partner_manage_locked", error
    with scene.ctx.uow(readonly=True) as uow:
        assert uow.accounts.get(b.id).can_partner_manage is False
    # ... nor read the account's users, over GraphQL or in the console.
    read = scene.client.post("/hub/graphql/", json=read_users, headers=headers)
    assert read.status_code == 200
    assert read.json().get("errors"), read.text
    assert scene.b_admin.email not in read.text
    assert host_admin.get(f"/hub/accounts/{b.id}/users").status_code == 403

    # The account's own admin can turn it on again.
    back = scene.graphql(
        scene.b_token, UPDATE_TENANT, {"input": {"tenantId": b.id, "canPartnerManage": True}}
    )
    assert "errors" not in back, back
    assert back["data"]["tenantMutations"]["updateTenant"]["tenant"]["canPartnerManage"] is True


@pytest.fixture
def deactivated(scene: Scene) -> Scene:
    """The scene with B deactivated by its parent's admin (the host's API account)."""
    answer = scene.graphql(
        scene.host.token, UPDATE_TENANT, {"input": {"tenantId": scene.b.id, "status": 2}}
    )
    assert "errors" not in answer, answer
    assert answer["data"]["tenantMutations"]["updateTenant"]["tenant"]["status"] == 2
    return scene


def test_a_deactivated_accounts_admin_is_refused_over_graphql(deactivated: Scene) -> None:
    scene, b = deactivated, deactivated.b
    body = scene.graphql(
        scene.b_token,
        """mutation add($input: AddUserWithRoleInput!) {
          userMutations { addUserWithRole(input: $input) { invitationLink } } }""",
        {"input": {"email": "late@b.example", "roleName": f"advertiser-view-{b.id}"}},
    )
    error = only_error(body)
    assert error["extensions"]["code"] == 401, error
    assert error["extensions"]["reason"] == "account_deactivated", error
    assert DEACTIVATED in error["message"]
    read = scene.graphql(scene.b_token, TENANT_USERS, {"tenantId": b.id})
    assert read.get("errors"), read
    assert scene.b_admin.email not in json.dumps(read)
    with scene.ctx.uow(readonly=True) as uow:
        assert uow.users.find_by_email("late@b.example") is None


def test_a_deactivated_accounts_admin_is_refused_by_the_bulk_api(deactivated: Scene) -> None:
    scene = deactivated
    listed = scene.bulk("GET", "/users", scene.b_token)
    assert listed.status_code == 401, listed.text
    assert DEACTIVATED in listed.json()["message"], listed.json()


def test_a_deactivated_accounts_admin_is_refused_over_scim(deactivated: Scene) -> None:
    scene = deactivated
    assert DEACTIVATED in scim_error(scene.scim("GET", "/Users", scene.b_token), 403)
    created = scene.scim(
        "POST",
        "/Users",
        scene.b_token,
        json={"schemas": [SCIM_USER], "userName": "late@b.example", "active": True},
    )
    assert DEACTIVATED in scim_error(created, 403)


def test_a_deactivated_accounts_admin_is_refused_in_the_console(
    deactivated: Scene, new_browser: Callable[..., Browser]
) -> None:
    scene, b = deactivated, deactivated.b
    own_admin = signed_in(new_browser(), scene.b_admin.email)
    for page in (f"/hub/accounts/{b.id}", f"/hub/accounts/{b.id}/users"):
        refused = own_admin.get(page)
        assert refused.status_code == 403, page
        assert "Not allowed" in text_of(refused)
    invite = own_admin.post(
        f"/hub/accounts/{b.id}/users/invite",
        data={"csrf_token": csrf_of(own_admin), "email": "late@b.example", "role": "view"},
    )
    assert invite.status_code == 403, text_of(invite)


def test_only_the_parent_lifts_a_deactivation(deactivated: Scene) -> None:
    scene, b = deactivated, deactivated.b
    lift = scene.graphql(scene.b_token, UPDATE_TENANT, {"input": {"tenantId": b.id, "status": 0}})
    assert only_error(lift)["extensions"]["code"] == 401
    with scene.ctx.uow(readonly=True) as uow:
        assert uow.accounts.get(b.id).status is AccountStatus.DEACTIVATED
    assert scene.bulk("GET", "/users", scene.b_token).status_code == 401

    lifted = scene.graphql(
        scene.host.token, UPDATE_TENANT, {"input": {"tenantId": b.id, "status": 0}}
    )
    assert "errors" not in lifted, lifted
    assert lifted["data"]["tenantMutations"]["updateTenant"]["tenant"]["status"] == 0
    assert scene.bulk("GET", "/users", scene.b_token).status_code == 200
    assert scene.scim("GET", "/Users", scene.b_token).status_code == 200


# -- 7. the owner -------------------------------------------------------------------------------


@dataclass
class Owned:
    """An account whose owner accepted its invitation (signed in in `owner_browser`), with a
    second admin (signed in in `admin_browser`)."""

    account: Account
    owner: User
    owner_browser: Browser
    other: User
    admin_browser: Browser

    @property
    def owner_url(self) -> str:
        return f"/hub/accounts/{self.account.id}/users/{self.owner.id}"

    def owner_id(self, scene: Scene) -> str | None:
        with scene.ctx.uow(readonly=True) as uow:
            return uow.accounts.get(self.account.id).owner_user_id


@pytest.fixture
def owned(scene: Scene, inbox: Inbox, new_browser: Callable[..., Browser]) -> Owned:
    owner_email = "owner@owned.example"
    account = make_account(
        scene.ctx, parent=scene.host.account, name="Owned Brand", admin_email=owner_email
    )
    owner_browser = new_browser()
    answer = accept(owner_browser, invitation_mail_link(inbox, owner_email, account))
    assert answer.status_code == 303, text_of(answer)
    owner = scene.user(owner_email)
    other = scene.user(person(scene.ctx, account, role="admin"))
    found = Owned(account, owner, owner_browser, other, signed_in(new_browser(), other.email))
    assert found.owner_id(scene) == owner.id
    return found


def test_an_admin_cannot_demote_remove_or_deactivate_the_owner(scene: Scene, owned: Owned) -> None:
    admin, url = owned.admin_browser, owned.owner_url
    demoted = admin.submit(admin.get(url), f"{url}/role", role="view")
    assert demoted.status_code == 409, text_of(demoted)
    assert OWNER_NOT_DEMOTED in text_of(demoted)
    assert scene.role_in(owned.account, owned.owner.id) == "admin"

    csrf = csrf_of(admin)
    removed = admin.post(f"{url}/remove", data={"csrf_token": csrf, "confirmed": "yes"})
    assert removed.status_code == 409, text_of(removed)
    assert OWNER_NOT_REMOVED in text_of(removed)
    assert scene.is_member(owned.account, owned.owner.id)

    deactivated = admin.post(
        f"{url}/active", data={"csrf_token": csrf, "confirmed": "yes", "active": "0"}
    )
    assert deactivated.status_code == 409, text_of(deactivated)
    assert OWNER_NOT_DEACTIVATED in text_of(deactivated)
    assert scene.user_by_id(owned.owner.id).status is UserStatus.ACTIVATED

    # Nor can the other admin take ownership for themselves.
    transfer = {"input": {"tenantId": owned.account.id, "userId": owned.other.id}}
    token = scene.token_for(owned.account, owned.other.email)
    taken = scene.graphql(token, TRANSFER_OWNERSHIP, transfer)
    assert only_error(taken)["extensions"]["code"] == 401
    assert owned.owner_id(scene) == owned.owner.id


def test_the_owner_hands_ownership_over_graphql_and_then_can_be_demoted(
    scene: Scene, owned: Owned
) -> None:
    # GraphQL takes bearer tokens only. A token someone else minted to act as the owner is
    # not the owner (another admin could mint one and take the account)...
    transfer = {"input": {"tenantId": owned.account.id, "userId": owned.other.id}}
    minted_by_other = scene.token_for(owned.account, owned.owner.email)
    refused = scene.graphql(minted_by_other, TRANSFER_OWNERSHIP, transfer)
    assert refused["errors"][0]["message"] == "Only the account owner can hand ownership over."
    assert owned.owner_id(scene) == owned.owner.id
    # ...while the owner's own token is the owner's.
    _, token, _ = credentials.create_api_token(
        scene.ctx, as_user(owned.owner), owned.account.id, user_email=owned.owner.email
    )
    handed = scene.graphql(token, TRANSFER_OWNERSHIP, transfer)
    assert "errors" not in handed, handed
    tenant = handed["data"]["tenantMutations"]["transferTenantOwnership"]["tenant"]
    assert tenant["id"] == owned.account.id
    assert owned.owner_id(scene) == owned.other.id

    admin, url = owned.admin_browser, owned.owner_url
    demoted = admin.submit(admin.get(url), f"{url}/role", role="view")
    assert demoted.status_code == 303, text_of(demoted)
    assert scene.role_in(owned.account, owned.owner.id) == "view"


def test_the_owner_hands_ownership_over_in_the_console_and_then_can_be_demoted(
    scene: Scene, owned: Owned
) -> None:
    owner = owned.owner_browser
    other_url = f"/hub/accounts/{owned.account.id}/users/{owned.other.id}"
    asked = owner.submit(owner.get(other_url), f"{other_url}/owner")
    assert asked.status_code == 200, text_of(asked)
    handed = owner.submit(asked, f"{other_url}/owner")
    assert handed.status_code == 303, text_of(handed)
    assert owned.owner_id(scene) == owned.other.id

    admin, url = owned.admin_browser, owned.owner_url
    demoted = admin.submit(admin.get(url), f"{url}/role", role="view")
    assert demoted.status_code == 303, text_of(demoted)
    assert scene.role_in(owned.account, owned.owner.id) == "view"
