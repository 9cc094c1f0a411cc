"""An invitation made over GraphQL reaches the person by mail; the link lets them set a
password and signs them in. Dead or tampered links show a clear page and change nothing."""

from __future__ import annotations

from tenantry.domain.ids import hash_secret
from tenantry.domain.invitations import Invitation
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import invitations, members
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

from browsing import (
    STRONG_PASSWORD,
    Browser,
    Clock,
    Host,
    audit,
    cookie_value,
    forms_of,
    mailed_link,
    set_cookies,
    text_of,
)
from factories import OPERATOR
from mailserver import Inbox


def _state(ctx: ServiceContext, email: str, account_id: str) -> tuple[User, MembershipStatus]:
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
        assert user is not None
        membership = uow.memberships.find(user.id, account_id)
        assert membership is not None
        return user, membership.status


def test_the_invited_person_sets_a_password_and_is_signed_in(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    returned = host.invite("New.Person@example.com")
    link = mailed_link(inbox, "new.person@example.com")
    # The mail carries a link of its own: the inviter was shown the other one.
    assert link != returned
    assert link.split("token=")[1].split("&")[1:] == returned.split("token=")[1].split("&")[1:]

    page = browser.get(link)
    assert page.status_code == 200
    text = text_of(page)
    assert "Acme Advertiser" in text
    assert "new.person@example.com" in text
    assert "At least 12 characters" in text  # the rules, next to the field
    assert 'aria-describedby="password-hint"' in page.text
    assert page.headers["referrer-policy"] == "same-origin"

    weak = browser.submit(page, "/auth/verify/", password="short")
    assert weak.status_code == 400
    assert "The password needs at least 12 characters" in text_of(weak)
    assert 'aria-invalid="true"' in weak.text
    user, status = _state(ctx, "new.person@example.com", host.tenant.id)
    assert (user.status, status, user.password_hash) == (UserStatus.PENDING, "pending", None)

    accepted = browser.submit(weak, "/auth/verify/", password=STRONG_PASSWORD)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/hub/"
    session_cookie = set_cookies(accepted)["tenantry_session"]
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie
    assert "Secure" not in session_cookie  # plain http, and an http base URL

    account = browser.follow(accepted)
    assert account.status_code == 200
    text = text_of(account)
    assert "Welcome! Your invitation is accepted." in text
    assert "Signed in as new.person@example.com" in text
    assert "Acme Advertiser" in text
    assert "Manage" in text or "manage" in text
    user, status = _state(ctx, "new.person@example.com", host.tenant.id)
    assert user.status is UserStatus.ACTIVATED
    assert status is MembershipStatus.ACTIVE
    assert user.last_login_at == ctx.now()
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2")
    assert user.email_verified_at == ctx.now()  # the mailed link proves the address
    assert [e.target_id for e in audit(ctx, "user.address_proved")] == [user.id]
    assert [e.target_id for e in audit(ctx, "invitation.accept")] == [user.id]
    [signed_in] = audit(ctx, "auth.sign_in")
    assert signed_in.face == "console"
    assert signed_in.after is not None
    assert signed_in.after["method"] == "invitation"

    # Signing out ends the session itself, not just the cookie.
    signed_out = browser.submit(account, "/auth/logout")
    assert signed_out.status_code == 303
    login = browser.follow(signed_out)
    assert login.url.path == "/auth/login"
    assert "You are signed out." in text_of(login)
    replay = browser.get(
        "/auth/account", headers={"Cookie": f"tenantry_session={cookie_value(session_cookie)}"}
    )
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/auth/login")
    assert [e.actor_id for e in audit(ctx, "auth.sign_out")] == [user.id]


def test_a_used_link_shows_a_clear_page_and_changes_nothing(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    host.invite("once@example.com")
    link = mailed_link(inbox, "once@example.com")
    page = browser.get(link)
    assert browser.submit(page, "/auth/verify/", password=STRONG_PASSWORD).status_code == 303
    user, _ = _state(ctx, "once@example.com", host.tenant.id)

    again = browser.get(link)
    assert again.status_code == 410
    assert "already been accepted" in text_of(again)
    assert "/auth/verify/" not in [f.action for f in forms_of(again)]
    # The form, sent again from the page opened before, does not set another password.
    resent = browser.submit(page, "/auth/verify/", password="Another-Password-99")
    assert resent.status_code == 410
    assert _state(ctx, "once@example.com", host.tenant.id)[0].password_hash == user.password_hash
    assert len(audit(ctx, "invitation.accept")) == 1


def test_an_expired_link(
    host: Host, inbox: Inbox, browser: Browser, clock: Clock, ctx: ServiceContext
) -> None:
    host.invite("late@example.com")
    link = mailed_link(inbox, "late@example.com")
    page = browser.get(link)
    clock.advance(days=7, seconds=1)
    expired = browser.get(link)
    assert expired.status_code == 410
    assert "This invitation has expired" in text_of(expired)
    assert browser.submit(page, "/auth/verify/", password=STRONG_PASSWORD).status_code == 410
    user, status = _state(ctx, "late@example.com", host.tenant.id)
    assert (user.status, status, user.password_hash) == (UserStatus.PENDING, "pending", None)


def test_a_revoked_or_resent_link(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    host.invite("twice@example.com")
    first = mailed_link(inbox, "twice@example.com")
    invitations.renew_invitation(ctx, OPERATOR, host.tenant.id, "twice@example.com")
    second = mailed_link(inbox, "twice@example.com")
    assert second != first
    assert "withdrawn" in text_of(browser.get(first))
    assert browser.get(first).status_code == 410
    assert browser.get(second).status_code == 200

    invitations.revoke_invitation(ctx, OPERATOR, host.tenant.id, "twice@example.com")
    revoked = browser.get(second)
    assert revoked.status_code == 410
    assert "This invitation was withdrawn" in text_of(revoked)
    assert _state(ctx, "twice@example.com", host.tenant.id)[1] is MembershipStatus.PENDING


def test_tampered_links(host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext) -> None:
    link = host.invite("careful@example.com")
    token = link.split("token=")[1].split("&")[0]
    tampered = [
        link.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")),
        link.replace("careful%40example.com", "other%40example.com").replace(
            "careful@example.com", "other@example.com"
        ),
        link.replace("et=inv", "et=reset"),
        link.replace(f"token={token}", "token="),
        "/auth/verify/",
        link.replace("careful@example.com", "not-an-address"),
    ]
    for url in tampered:
        page = browser.get(url)
        assert page.status_code == 400, url
        assert "This invitation link is not valid any more" in text_of(page), url
        assert "/auth/verify/" not in [f.action for f in forms_of(page)]
    # A form sent with a forged token gets the same page and changes nothing.
    good = browser.get(link)
    forged = browser.submit(good, "/auth/verify/", token=token + "x", password=STRONG_PASSWORD)
    assert forged.status_code == 400
    user, status = _state(ctx, "careful@example.com", host.tenant.id)
    assert (user.status, status) == (UserStatus.PENDING, MembershipStatus.PENDING)
    assert audit(ctx, "invitation.accept") == []


def test_a_network_managed_user_accepts_without_a_password(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    """People whose network signs them in accept the link without choosing a password, and
    get no session here."""
    added = members.add_member(
        ctx,
        OPERATOR,
        host.tenant.id,
        NewMember(
            email="sso@example.com", role_key="member", network_managed=True, id_from_network="n1"
        ),
    )
    # A network-managed person who was invited before the network took over their login.
    token = "network-managed-invitation-token"
    with ctx.uow() as uow:
        membership = uow.memberships.find(added.user.id, host.tenant.id)
        assert membership is not None
        membership.status = MembershipStatus.PENDING
        uow.memberships.update(membership)
        user = uow.users.get(added.user.id)
        user.status = UserStatus.PENDING
        uow.users.update(user)
    with ctx.uow() as uow:
        uow.invitations.add(
            Invitation(
                id=None,
                email="sso@example.com",
                user_id=added.user.id,
                account_id=host.tenant.id,
                role_key="member",
                token_hash=hash_secret(token),
                expires_at=ctx.invitation_expiry(None),
                invited_by="test",
                created_at=ctx.now(),
            )
        )
    page = browser.get(f"/auth/verify/?token={token}&et=inv&email=sso@example.com")
    assert page.status_code == 200
    assert "Your network signs you in" in text_of(page)
    assert 'name="password"' not in page.text
    accepted = browser.submit(page, "/auth/verify/")
    assert accepted.status_code == 200
    assert "Your invitation is accepted" in text_of(accepted)
    assert "tenantry_session" not in set_cookies(accepted)
    user, status = _state(ctx, "sso@example.com", host.tenant.id)
    assert (user.status, status, user.password_hash) == (
        UserStatus.ACTIVATED,
        MembershipStatus.ACTIVE,
        None,
    )


def test_the_invited_person_may_decline(
    host: Host, inbox: Inbox, browser: Browser, ctx: ServiceContext
) -> None:
    """Consent both ways: the mailed link can say no, and then nothing is left pending."""
    host.invite("Someone@example.com")
    link = mailed_link(inbox, "someone@example.com")
    page = browser.get(link)
    assert "Decline the invitation" in text_of(page)
    declined = browser.submit(page, "/auth/verify/decline")
    assert declined.status_code == 200, text_of(declined)
    assert "You declined the invitation." in text_of(declined)
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email("someone@example.com")
        assert user is not None
        assert uow.memberships.find(user.id, host.tenant.id) is None
    assert [e.target_id for e in audit(ctx, "invitation.decline")] == [user.id]
    # The link is spent: neither accepting nor declining again works.
    assert browser.get(link).status_code == 410
    again = browser.submit(page, "/auth/verify/decline")
    assert again.status_code == 400
    assert "not valid any more" in text_of(again)
