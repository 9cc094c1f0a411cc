"""Taking over a global identity, as a security review did it end to end, and what stops it now.

1. Planting: an admin of account A adds an address, opens the invitation link GraphQL showed
   them, chooses the password, and removes the user again. Whichever face account B later
   adds that address through, B gets a *pending* membership; the planter, signed in with the
   password it chose, reaches nothing of B; B's link works only for someone signed in as the
   identity.
2. Proof of address: B's invitation mail carries a link nobody else was shown; the real owner
   resets the password by mail, which ends what the planter set up (sessions, API tokens, the
   password), and then accepts B's invitation signed in. A new user who accepts the mailed
   link is verified; one who accepts the shown link is not.
3. Renaming: A's admin renames its own member to the victim's address over SCIM; that makes
   the identity unverified, ends its sessions, tells the old address, and B adding the new
   address still only invites it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, accept, sign_in, text_of
from httpclient import HttpClient
from mailserver import Inbox
from takeover_support import (
    ADDRESS_CHANGED,
    OWNER_PASSWORD,
    PLANTED_PASSWORD,
    REMOVE_USER,
    SCIM_USER,
    SIGN_IN_TO_ACCEPT,
    Scene,
    build_scene,
    cli,
    invitation_mail_link,
    reset_mail_link,
    shown_secret,
    signed_in,
    token_of,
)

VICTIM = "ceo@victim.example"


@pytest.fixture
def scene(ctx: ServiceContext, client: HttpClient, database_url: str, host: Host) -> Scene:
    return build_scene(ctx, client, database_url, host)


def plant(scene: Scene, planter: Browser, *, action: str = "view") -> User:
    """A's admin plants `VICTIM`: adds it over GraphQL, opens the link the answer shows, sets
    the password (which signs `planter` in as the victim). The identity's home is A."""
    answer = scene.add_user_with_role(scene.a_token, VICTIM, f"advertiser-{action}-{scene.a.id}")
    assert answer["userAlreadyExist"] is False
    accepted = accept(planter, answer["invitationLink"], PLANTED_PASSWORD)
    assert accepted.status_code == 303, text_of(accepted)
    victim = scene.user(VICTIM)
    assert victim.email_verified_at is None  # the link was shown to the inviter, not mailed
    assert scene.status_in(scene.a, VICTIM) is MembershipStatus.ACTIVE
    return victim


# -- 1. a planted identity, added by B through every face ---------------------------------------


@dataclass
class Adding:
    """What a face needs to add `VICTIM` to B as B's admin (or, for the CLI, the operator)."""

    scene: Scene
    victim: User
    new_browser: Callable[..., Browser]
    tmp_path: Path


def by_graphql(adding: Adding) -> str | None:
    scene = adding.scene
    answer = scene.add_user_with_role(scene.b_token, VICTIM, f"advertiser-view-{scene.b.id}")
    assert answer["userAlreadyExist"] is True
    assert answer["user"]["id"] == adding.victim.id
    link = answer["invitationLink"]
    assert isinstance(link, str), answer
    assert link.startswith("http://testserver/auth/verify/?token="), link
    return link


def by_bulk_rest(adding: Adding) -> str | None:
    scene = adding.scene
    item = {
        "email": VICTIM,
        "username": "Victim CEO",
        "role": "marketing",
        "allow_access_to_all_future_apps": True,
        "media_sources": [],
        "geos": [],
    }
    response = scene.bulk("POST", "/users", scene.b_token, json=[item])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"] == []
    (added,) = body["data"]
    assert added["user_id"] == adding.victim.id
    assert added["pending"] is True
    return None


def by_scim(adding: Adding) -> str | None:
    scene = adding.scene
    user = {
        "schemas": [SCIM_USER],
        "userName": VICTIM,
        "name": {"givenName": "Vic", "familyName": "Tim"},
        "emails": [{"primary": True, "value": VICTIM, "type": "work"}],
        "active": True,
    }
    response = scene.scim("POST", "/Users", scene.b_token, json=user)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == adding.victim.id
    assert body["userName"] == VICTIM
    return None


def by_console_invite(adding: Adding) -> str | None:
    scene = adding.scene
    admin = signed_in(adding.new_browser(), scene.b_admin.email)
    users = f"/hub/accounts/{scene.b.id}/users"
    answer = admin.submit(admin.get(users), f"{users}/invite", email=VICTIM, role="view")
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"] == f"/hub/accounts/{scene.b.id}/invitations"
    assert f"Invitation sent to {VICTIM}." in text_of(admin.follow(answer))
    return None


def by_console_csv(adding: Adding) -> str | None:
    scene = adding.scene
    admin = signed_in(adding.new_browser(), scene.b_admin.email)
    bulk = f"/hub/accounts/{scene.b.id}/users/bulk"
    answer = admin.submit(admin.get(bulk), bulk, csv=f"email,role\n{VICTIM},view\n")
    assert answer.status_code == 200, text_of(answer)
    text = text_of(answer)
    assert "1 added, 0 refused" in text
    assert f"1 {VICTIM} Invited" in text, text
    return None


def by_cli_import(adding: Adding) -> str | None:
    scene = adding.scene
    path = adding.tmp_path / "users.csv"
    path.write_text(f"email,role\n{VICTIM},member\n", encoding="utf-8")
    result = cli(
        scene.database_url, "users", "import", str(path), "--account", scene.b.id, "--json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == [VICTIM]
    assert report["refused"] == []
    (printed,) = report["invitation_links"]  # the CLI's deployment mails nothing
    assert printed["email"] == VICTIM
    link: str = printed["link"]
    return link


FACES = [
    pytest.param(by_graphql, id="graphql"),
    pytest.param(by_bulk_rest, id="bulk_rest"),
    pytest.param(by_scim, id="scim"),
    pytest.param(by_console_invite, id="console_invite"),
    pytest.param(by_console_csv, id="console_csv"),
    pytest.param(by_cli_import, id="cli_import"),
]


@pytest.mark.parametrize("add_to_b", FACES)
def test_a_planted_identity_added_elsewhere_is_only_invited(
    add_to_b: Callable[[Adding], str | None],
    scene: Scene,
    inbox: Inbox,
    new_browser: Callable[..., Browser],
    tmp_path: Path,
) -> None:
    victim = plant(scene, new_browser())
    removed = scene.graphql(
        scene.a_token, REMOVE_USER, {"input": {"userId": victim.id, "tenantId": scene.a.id}}
    )
    assert "errors" not in removed, removed
    assert not scene.is_member(scene.a, victim.id)

    shown = add_to_b(Adding(scene, victim, new_browser, tmp_path))

    # The existing identity was only invited: no instant join.
    assert scene.status_in(scene.b, VICTIM) is MembershipStatus.PENDING
    link = shown or invitation_mail_link(inbox, VICTIM, scene.b)

    # The planter, signed in as the victim with the password it chose, reaches nothing of B.
    planter = signed_in(new_browser(), VICTIM, PLANTED_PASSWORD)
    home = planter.get("/hub/")
    assert home.status_code == 200
    assert scene.b.id not in home.text
    assert scene.b.name not in text_of(home)
    search = planter.get("/hub/", params={"q": "Victim"})
    assert search.status_code == 200
    assert scene.b.id not in search.text
    for section in ("", "/users", "/invitations", "/api-access"):
        assert planter.get(f"/hub/accounts/{scene.b.id}{section}").status_code == 403, section

    # B's link, used by someone not signed in as the identity: refused, nothing changes.
    stranger = new_browser()
    opened = stranger.get(link)
    assert opened.status_code == 200, text_of(opened)
    assert "already has a login" in text_of(opened)
    password_before = scene.user(VICTIM).password_hash
    refused = stranger.submit(opened, "/auth/verify/", password="Stranger-Sets-This-1234")
    assert refused.status_code == 403, text_of(refused)
    assert SIGN_IN_TO_ACCEPT in text_of(refused)
    assert "tenantry_session" not in refused.headers.get("set-cookie", "")
    assert scene.status_in(scene.b, VICTIM) is MembershipStatus.PENDING
    assert scene.user(VICTIM).password_hash == password_before

    # Signed in as the identity, the same link accepts.
    page = planter.get(link)
    assert page.status_code == 200
    assert f"You are signed in as {VICTIM}" in text_of(page)
    accepted = planter.submit(page, "/auth/verify/")
    assert accepted.status_code == 303, text_of(accepted)
    assert "The invitation is accepted." in text_of(planter.follow(accepted))
    assert scene.status_in(scene.b, VICTIM) is MembershipStatus.ACTIVE
    assert planter.get(f"/hub/accounts/{scene.b.id}").status_code == 200


# -- 2. proof of address ------------------------------------------------------------------------


def test_the_owner_proves_the_address_and_everything_the_planter_set_ends(
    scene: Scene, inbox: Inbox, new_browser: Callable[..., Browser]
) -> None:
    planter = new_browser()
    victim = plant(scene, planter, action="admin")
    # While the victim is A's admin, the planter mints a token acting as the victim.
    api_access = f"/hub/accounts/{scene.a.id}/api-access"
    created = planter.submit(
        planter.get(api_access), f"{api_access}/tokens", name="planted", user_email=VICTIM
    )
    assert created.status_code == 200, text_of(created)
    planted_token = shown_secret(created)
    assert scene.bulk("GET", "/users", planted_token).status_code == 200

    answer = scene.add_user_with_role(scene.b_token, VICTIM, f"advertiser-view-{scene.b.id}")
    assert answer["userAlreadyExist"] is True
    shown_to_b = answer["invitationLink"]
    assert shown_to_b is not None
    assert scene.status_in(scene.b, VICTIM) is MembershipStatus.PENDING
    mailed = invitation_mail_link(inbox, VICTIM, scene.b)
    assert mailed != shown_to_b
    assert token_of(mailed) != token_of(shown_to_b)

    # The real owner asks for a reset by mail and follows the mailed link.
    owner = new_browser()
    asked = owner.submit(owner.get("/auth/reset"), "/auth/reset", email=VICTIM)
    assert asked.status_code == 200
    reset_link = reset_mail_link(inbox, VICTIM)
    page = owner.get(reset_link)
    assert page.status_code == 200, text_of(page)
    done = owner.submit(page, reset_link.removeprefix("http://testserver"), password=OWNER_PASSWORD)
    assert done.status_code == 303, text_of(done)

    # Everything the planter set up is gone: its session, its token, its password.
    proven = scene.user_by_id(victim.id)
    assert proven.email_verified_at is not None
    after = planter.get("/auth/account")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/auth/login")
    assert scene.bulk("GET", "/users", planted_token).status_code == 401
    with scene.ctx.uow(readonly=True) as uow:
        tokens = [t for t in uow.api_tokens.for_account(scene.a.id) if t.user_id == victim.id]
    assert tokens
    assert all(t.revoked_at is not None for t in tokens)
    assert sign_in(new_browser(), VICTIM, PLANTED_PASSWORD).status_code == 401

    # Signed in, the owner accepts B's invitation (the mailed link).
    signed_in(owner, VICTIM, OWNER_PASSWORD)
    opened = owner.get(mailed)
    assert opened.status_code == 200, text_of(opened)
    accepted = owner.submit(opened, "/auth/verify/")
    assert accepted.status_code == 303, text_of(accepted)
    assert scene.status_in(scene.b, VICTIM) is MembershipStatus.ACTIVE
    assert owner.get(f"/hub/accounts/{scene.b.id}/users").status_code == 200


def test_only_the_mailed_link_verifies_a_new_user(
    scene: Scene, inbox: Inbox, new_browser: Callable[..., Browser]
) -> None:
    role = f"advertiser-view-{scene.b.id}"
    mailed_one, shown_one = "first@victim.example", "second@victim.example"
    scene.add_user_with_role(scene.b_token, mailed_one, role)
    shown = scene.add_user_with_role(scene.b_token, shown_one, role)["invitationLink"]

    by_mail = new_browser()
    link = invitation_mail_link(inbox, mailed_one, scene.b)
    assert accept(by_mail, link).status_code == 303
    assert scene.user(mailed_one).email_verified_at is not None
    assert scene.status_in(scene.b, mailed_one) is MembershipStatus.ACTIVE
    # Proving the address revoked earlier sessions, not the one accepting just opened.
    assert by_mail.get("/auth/account").status_code == 200

    by_shown = new_browser()
    assert accept(by_shown, shown).status_code == 303
    assert scene.user(shown_one).email_verified_at is None
    assert scene.status_in(scene.b, shown_one) is MembershipStatus.ACTIVE


# -- 3. a renamed identity ----------------------------------------------------------------------


def test_renaming_an_identity_unverifies_it_and_b_still_only_invites(
    scene: Scene, inbox: Inbox, new_browser: Callable[..., Browser]
) -> None:
    throwaway, target = "throwaway@a.example", "coo@victim.example"
    scene.add_user_with_role(scene.a_token, throwaway, f"advertiser-view-{scene.a.id}")
    planter = new_browser()
    assert accept(planter, invitation_mail_link(inbox, throwaway, scene.a)).status_code == 303
    renamed = scene.user(throwaway)
    assert renamed.email_verified_at is not None  # the mailed link proved throwaway@a.example
    assert renamed.home_account_id == scene.a.id

    # Entra ID's way of renaming: replace userName. A is its home and its only account.
    response = scene.scim_patch(
        scene.a_token, renamed.id, {"op": "Replace", "path": "userName", "value": target}
    )
    assert response.status_code == 200, response.text
    assert response.json()["userName"] == target

    after = scene.user_by_id(renamed.id)
    assert after.email == target
    assert after.email_verified_at is None
    ended = planter.get("/auth/account")
    assert ended.status_code == 303
    assert ended.headers["location"].startswith("/auth/login")
    notices = [
        m for m in inbox.messages if m["To"] == throwaway and m["Subject"] == ADDRESS_CHANGED
    ]
    assert len(notices) == 1, [(m["To"], m["Subject"]) for m in inbox.messages]
    body = notices[0].get_body(("plain",))
    assert body is not None
    assert target in body.get_content()

    # B adds the new address: the identity exists, so B only invites it.
    answer = scene.add_user_with_role(scene.b_token, target, f"advertiser-admin-{scene.b.id}")
    assert answer["userAlreadyExist"] is True
    assert answer["user"]["id"] == renamed.id
    assert answer["invitationLink"] is not None
    assert scene.status_in(scene.b, target) is MembershipStatus.PENDING
    # The planter still knows the password, and still reaches nothing of B.
    again = signed_in(new_browser(), target)
    assert scene.b.id not in again.get("/hub/").text
    assert again.get(f"/hub/accounts/{scene.b.id}/users").status_code == 403
