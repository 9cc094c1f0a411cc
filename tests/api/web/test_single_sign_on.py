"""Signing in through an account's identity provider, against a real OpenID Connect provider
on 127.0.0.1: the address step, the code flow with PKCE, state and nonce, the ID token's
checks, just-in-time membership, and the password rules where single sign-on is required."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from oidcprovider import Provider, query_of, running_provider
from tenantry.domain.accounts import AccountKind, AccountStatus, SsoMode
from tenantry.domain.auth import SecondFactor
from tenantry.domain.errors import InvalidInput
from tenantry.domain.ids import hash_secret
from tenantry.domain.memberships import MembershipStatus
from tenantry.services import accounts, members, sso, sso_config
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import ServiceContext
from tenantry.services.sso_config import ProviderSettings

from browsing import (
    Browser,
    Clock,
    Host,
    accept,
    audit,
    current_code,
    person,
    set_cookies,
    sign_in,
    text_of,
)
from factories import OPERATOR, make_account, make_member, set_policy
from mailserver import Inbox

DOMAIN = "example.org"


@pytest.fixture(autouse=True)
def secret_key(ctx: ServiceContext) -> None:
    ctx.settings.secret_key = SecretStr("s" * 40)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    with running_provider(monkeypatch) as running:
        yield running


def use_provider(
    ctx: ServiceContext,
    host: Host,
    provider: Provider,
    *,
    jit_role: str | None = "view",
    **extra: object,
) -> None:
    sso_config.set_identity_provider(
        ctx,
        OPERATOR,
        host.tenant.id,
        ProviderSettings(
            issuer=provider.issuer,
            client_id="tenantry-client",
            client_secret="client-secret-value",
            domains=[DOMAIN],
            jit_role_key=jit_role,
            **extra,  # type: ignore[arg-type]
        ),
    )
    set_policy(ctx, host.tenant.id, sso_enabled=True)


def to_provider(browser: Browser, email: str) -> httpx.Response:
    page = browser.get("/auth/login")
    return browser.submit(page, "/auth/login", email=email)


def sent_to(answer: httpx.Response) -> str:
    """Where the page that continues to the provider sends the browser (by itself, and by
    its link)."""
    assert answer.status_code == 200, text_of(answer)
    found = re.search(r'<a id="continue" class="button" href="([^"]+)"', answer.text)
    assert found, text_of(answer)
    url = html.unescape(found.group(1))
    assert f'<meta http-equiv="refresh" content="0;url={found.group(1)}">' in answer.text
    return url


def sso_sign_in(browser: Browser, provider: Provider, email: str, sub: str) -> httpx.Response:
    """The address, the provider, and back: the answer to the callback."""
    back = provider.authorize(sent_to(to_provider(browser, email)), sub)
    return browser.get(back)


def test_a_first_sign_in_joins_the_account_with_the_role_and_a_second_signs_in_again(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    provider.set_user("ann", email="Ann@Example.org", email_verified=True)
    sent = to_provider(browser, "ann@example.org")
    location = sent_to(sent)
    params = query_of(location)
    assert location.startswith(f"{provider.issuer}/oauth2/authorize?")
    assert params["code_challenge_method"] == "S256"
    with ctx.uow(readonly=True) as uow:
        pending = uow.single_sign_on.find_sign_in(hash_secret(params["state"]))
    assert pending is not None  # kept server-side, the state only as its digest
    assert pending.nonce == params["nonce"]
    digest = hashlib.sha256(pending.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert params["client_id"] == "tenantry-client"
    assert params["redirect_uri"] == "http://testserver/auth/sso/callback"
    assert {"openid", "email"} <= set(params["scope"].split())
    assert params["state"]
    assert params["nonce"]
    binding = set_cookies(sent)["tenantry_sso"]
    assert "HttpOnly" in binding
    assert "Path=/auth/sso" in binding
    assert "SameSite=lax" in binding

    answer = browser.get(provider.authorize(location, "ann"))
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"] == "/hub/"
    assert "tenantry_session" in set_cookies(answer)
    assert "Signed in as ann@example.org" in text_of(browser.get("/auth/account"))
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email("ann@example.org")
        assert user is not None
        membership = uow.memberships.find(user.id, host.tenant.id)
    assert user.is_verified
    assert membership is not None
    assert (membership.role_key, membership.status) == ("view", MembershipStatus.ACTIVE)
    [signed] = audit(ctx, "auth.sign_in")
    assert signed.after is not None
    assert signed.after["method"] == "single_sign_on"
    [proved] = audit(ctx, "user.address_proved")
    assert proved.after is not None
    assert proved.after["how"] == "single_sign_on"

    browser.submit(browser.get("/auth/account"), "/auth/logout")
    again = sso_sign_in(browser, provider, "ann@example.org", "ann")
    assert again.status_code == 303
    assert again.headers["location"] == "/hub/"
    assert len(audit(ctx, "auth.sign_in")) == 2
    assert len(audit(ctx, "membership.create")) == 1  # joined once
    assert len(audit(ctx, "user.address_proved")) == 1


def test_a_wrong_state_and_a_replayed_answer_sign_nobody_in(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    provider.set_user("bob", email="bob@example.org", email_verified=True)
    sent = to_provider(browser, "bob@example.org")
    back = provider.authorize(sent_to(sent), "bob")
    state = query_of(back)["state"]
    forged = browser.get(back.replace(f"state={state}", "state=not-the-state"))
    assert forged.status_code == 401
    assert "not valid any more" in text_of(forged)
    assert "tenantry_session" not in set_cookies(forged)

    # The binding cookie went with the refused answer; a fresh start, then the same answer twice.
    sent = to_provider(browser, "bob@example.org")
    back = provider.authorize(sent_to(sent), "bob")
    binding = browser.client.cookies.get("tenantry_sso")
    first = browser.get(back)
    assert first.status_code == 303
    browser.client.cookies.set("tenantry_sso", binding or "", path="/auth/sso")
    replay = browser.get(back)
    assert replay.status_code == 401
    assert "tenantry_session" not in set_cookies(replay)


def test_an_answer_carried_to_another_browser_signs_nobody_in(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider, new_browser: object
) -> None:
    use_provider(ctx, host, provider)
    provider.set_user("cy", email="cy@example.org", email_verified=True)
    back = provider.authorize(sent_to(to_provider(browser, "cy@example.org")), "cy")
    other: Browser = new_browser()  # type: ignore[operator]
    stolen = other.get(back)
    assert stolen.status_code == 401
    assert browser.get(back).status_code == 303  # still usable by the browser it belongs to


def test_keys_rotate_and_a_token_signed_with_an_unknown_key_is_refused(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    provider.set_user("dee", email="dee@example.org", email_verified=True)
    assert sso_sign_in(browser, provider, "dee@example.org", "dee").status_code == 303
    browser.client.cookies.clear()

    provider.rotate_key()  # published: fetched again once, and accepted
    assert sso_sign_in(browser, provider, "dee@example.org", "dee").status_code == 303
    browser.client.cookies.clear()

    provider.sign_with_unpublished_key()
    refused = sso_sign_in(browser, provider, "dee@example.org", "dee")
    assert refused.status_code == 401
    assert "could not be trusted" in text_of(refused)
    failed = [e.after["reason"] for e in audit(ctx, "auth.sign_in_failed") if e.after]
    assert failed == ["token_rejected: signed with an unknown key"]
    # Counted by kind only: the detail, the provider's doing, stays in the audit trail.
    labels = {
        sample.labels["reason"]
        for family in REGISTRY.collect()
        if family.name == "tenantry_sign_in_failures"
        for sample in family.samples
    }
    assert "token_rejected" in labels
    assert not any(":" in label for label in labels)


def test_an_expired_token_is_refused(
    host: Host,
    browser: Browser,
    ctx: ServiceContext,
    monkeypatch: pytest.MonkeyPatch,
    clock: object,
) -> None:
    with running_provider(monkeypatch, token_max_age=timedelta(seconds=30)) as short:
        use_provider(ctx, host, short)
        short.set_user("eve", email="eve@example.org", email_verified=True)
        sent = to_provider(browser, "eve@example.org")
        back = short.authorize(sent_to(sent), "eve")
        clock.advance(minutes=5)  # type: ignore[attr-defined]
        refused = browser.get(back)
    assert refused.status_code == 401
    failed = [e.after["reason"] for e in audit(ctx, "auth.sign_in_failed") if e.after]
    assert failed == ["token_rejected: claims: ExpiredTokenError"]


def test_an_unverified_address_is_refused_where_verification_is_required(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider, require_verified_email=True)
    provider.set_user("fay", email="fay@example.org", email_verified=False)
    refused = sso_sign_in(browser, provider, "fay@example.org", "fay")
    assert refused.status_code == 401
    assert "has not verified your e-mail address" in text_of(refused)
    with ctx.uow(readonly=True) as uow:
        assert uow.users.find_by_email("fay@example.org") is None


def test_people_unknown_to_an_account_without_a_role_for_newcomers_are_refused(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider, jit_role=None)
    provider.set_user("gus", email="gus@example.org", email_verified=True)
    refused = sso_sign_in(browser, provider, "gus@example.org", "gus")
    assert refused.status_code == 401
    assert "You are not a member here yet" in text_of(refused)


def test_a_provider_never_signs_in_an_address_outside_its_domains(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    victim = person(ctx, host.account, email="root@elsewhere.example")
    provider.set_user("mallory", email=victim, email_verified=True)
    # Typed one address, signed in as another: refused, whoever the other is.
    swapped = sso_sign_in(browser, provider, "mallory@example.org", "mallory")
    assert swapped.status_code == 401
    assert "another e-mail address than the one you typed" in text_of(swapped)
    assert "tenantry_session" not in set_cookies(swapped)


def test_a_provider_signs_in_nobody_who_belongs_to_an_account_it_does_not_manage(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    victim_co = make_account(ctx, name="Victim Co")
    # An admin of another account, whose address happens to be of the served domain.
    admin = make_member(ctx, victim_co, role="admin", email="boss@example.org")
    # Someone the tenant added once, removed, and another account added later.
    carol = make_member(ctx, host.tenant, role="view", email="carol@example.org")
    assert carol.home_account_id == host.tenant.id
    members.remove_member(ctx, OPERATOR, host.tenant.id, carol.id)
    make_member(ctx, victim_co, role="admin", email="carol@example.org")
    # Someone whose only other membership is still pending (an invitation elsewhere).
    dan = make_member(ctx, host.tenant, role="view", email="dan@example.org")
    make_member(ctx, victim_co, role="view", email=dan.email, active=False)
    use_provider(ctx, host, provider)  # the tenant's provider serves example.org
    for user in (admin, carol, dan):
        provider.set_user(user.id, email=user.email, email_verified=True)
        refused = sso_sign_in(browser, provider, user.email, user.id)
        assert refused.status_code == 401, user.email
        assert "may not sign in this e-mail address" in text_of(refused)
        assert "tenantry_session" not in set_cookies(refused)
    with ctx.uow(readonly=True) as uow:
        assert uow.memberships.find(admin.id, host.tenant.id) is None
        assert not any(uow.users.get(u.id).is_verified for u in (admin, carol, dan))
    # Its own member, though, it signs in.
    own = make_member(ctx, host.tenant, role="view", email="eli@example.org")
    provider.set_user("eli", email=own.email, email_verified=True)
    assert sso_sign_in(browser, provider, own.email, "eli").status_code == 303


def test_signing_in_through_a_provider_never_removes_a_second_factor(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    user = make_member(ctx, host.tenant, role="admin", email="tia@example.org")
    with ctx.uow() as uow:
        uow.auth.replace_second_factor(
            SecondFactor(user.id, "JBSWY3DPEHPK3PXP", ctx.now(), None, ctx.now())
        )
        assert not uow.users.get(user.id).is_verified
    provider.set_user("tia", email=user.email, email_verified=True)
    answer = sso_sign_in(browser, provider, user.email, "tia")
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"].startswith("/auth/2fa")
    assert not answer.headers["location"].startswith("/auth/2fa/setup")
    assert browser.get("/hub/").status_code == 303  # not in before the second factor
    with ctx.uow(readonly=True) as uow:
        assert uow.auth.find_second_factor(user.id) is not None
        assert uow.users.get(user.id).is_verified
    assert audit(ctx, "auth.sign_in") == []


def test_a_domain_no_account_serves_goes_on_to_the_password_as_an_unknown_address_does(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    known = person(ctx, host.tenant, email="pat@other.example")
    answers = [to_provider(browser, email) for email in (known, "nobody@other.example")]
    for answer in answers:
        assert answer.status_code == 200
        assert '<label for="password">' in answer.text
    # The same page, but for the address in it.
    assert answers[0].text.replace(known, "X") == answers[1].text.replace(
        "nobody@other.example", "X"
    ).replace(
        answers[1].text.split('name="csrf_token" value="')[1].split('"')[0],
        answers[0].text.split('name="csrf_token" value="')[1].split('"')[0],
    )


def test_a_provider_below_a_deactivated_account_signs_nobody_in(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    agency = make_account(ctx, parent=host.account, kind=AccountKind.AGENCY, name="Closed agency")
    below = make_account(ctx, parent=agency, name="Below it")
    settings = ProviderSettings(
        issuer=provider.issuer,
        client_id="tenantry-client",
        client_secret="client-secret-value",
        domains=[DOMAIN],
        jit_role_key="view",
    )
    sso_config.set_identity_provider(ctx, OPERATOR, below.id, settings)
    set_policy(ctx, below.id, sso_enabled=True)
    newcomer = f"newcomer@{DOMAIN}"
    assert sso.route(ctx, newcomer) == below.id
    closing = AccountChanges(status=AccountStatus.DEACTIVATED)
    accounts.update_account(ctx, OPERATOR, agency.id, closing)
    assert sso.route(ctx, newcomer) is None
    answer = to_provider(browser, newcomer)
    assert '<label for="password">' in answer.text  # the password step, as for anyone unknown


def test_members_of_an_account_that_requires_sso_get_no_password_sign_in_nor_reset(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider, inbox: Inbox
) -> None:
    use_provider(ctx, host, provider)
    email = person(ctx, host.tenant, email="quinn@corp.example")
    set_policy(ctx, host.tenant.id, sso_mode=SsoMode.REQUIRED)
    # The address step sends them to the provider, though the domain is not served...
    sent = to_provider(browser, email)
    assert sent_to(sent).startswith(provider.issuer)
    # ...and the password, right as it is, does not sign them in.
    refused = browser.post(
        "/auth/login",
        data={
            **browser.form(browser.get("/auth/login"), "/auth/login").fields,
            "email": email,
            "password": "Correct-Horse-42-battery",
        },
    )
    assert refused.status_code == 401
    assert "requires single sign-on" in text_of(refused)
    assert "tenantry_session" not in set_cookies(refused)
    mailed = len(inbox.messages)
    page = browser.get("/auth/reset")
    assert browser.submit(page, "/auth/reset", email=email).status_code == 200
    assert len(inbox.messages) == mailed
    assert audit(ctx, "auth.password_reset_request") == []
    # Their home account's provider may sign them in.
    provider.set_user("quinn", email=email, email_verified=True)
    back = provider.authorize(sent_to(sent), "quinn")
    assert browser.get(back).status_code == 303


def test_password_users_are_unaffected(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    email = person(ctx, host.tenant, email="rae@corp.example")
    assert sign_in(browser, email).status_code == 303


def test_network_managed_people_sign_in_through_their_networks_provider(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    sso_config.set_identity_provider(
        ctx,
        OPERATOR,
        host.account.id,
        ProviderSettings(
            issuer=provider.issuer,
            client_id="network-client",
            client_secret="network-secret",
            domains=["network.example"],
        ),
    )
    user = make_member(
        ctx,
        host.account,
        role="view",
        email="nia@agency.example",
        network_managed=True,
        id_from_network="nia-1",
    )
    assert user.network_account_id == host.account.id
    # No password here to try: the address goes to the network's provider.
    sent = to_provider(browser, user.email)
    assert sent_to(sent).startswith(provider.issuer)
    provider.set_user("nia", email=user.email, email_verified=True)
    answer = browser.get(provider.authorize(sent_to(sent), "nia"))
    assert answer.status_code == 303, text_of(answer)
    assert "Signed in as nia@agency.example" in text_of(browser.get("/auth/account"))


def test_a_second_factor_the_account_requires_comes_after_the_provider(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider, clock: Clock
) -> None:
    use_provider(ctx, host, provider)
    host.require_two_factor()
    provider.set_user("hal", email="hal@example.org", email_verified=True)
    answer = sso_sign_in(browser, provider, "hal@example.org", "hal")
    assert answer.headers["location"].startswith("/auth/2fa/setup")
    assert browser.get("/hub/").status_code == 303  # not in before the second factor
    setup = browser.get(answer.headers["location"])
    assert setup.status_code == 200
    secret = re.search(r'<code class="secret" id="secret">([A-Z2-7 ]+)</code>', setup.text)
    assert secret, text_of(setup)
    done = browser.submit(setup, "/auth/2fa/setup", code=current_code(secret.group(1), clock))
    assert done.status_code == 200, text_of(done)
    # The complete session holds, though this person has no password here.
    assert "Signed in as hal@example.org" in text_of(browser.get("/auth/account"))


def test_a_provider_on_this_machine_is_not_reached_unless_allowed(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    ctx.settings.sso_allow_insecure = False
    answer = to_provider(browser, "ann@example.org")
    assert answer.status_code == 503
    assert "could not be reached" in text_of(answer)
    assert "answered" not in text_of(answer)
    with pytest.raises(InvalidInput, match="https"):
        use_provider(ctx, host, provider)


def test_an_invitation_where_sso_is_required_sets_no_password(
    host: Host, browser: Browser, ctx: ServiceContext, provider: Provider
) -> None:
    use_provider(ctx, host, provider)
    set_policy(ctx, host.tenant.id, sso_mode=SsoMode.REQUIRED)
    link = host.invite("newcomer@corp.example")
    refused = accept(browser, link)
    assert refused.status_code in (401, 403), text_of(refused)
    assert "Sign in through your organisation's identity provider" in text_of(refused)
    assert "tenantry_session" not in set_cookies(refused)
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email("newcomer@corp.example")
        assert user is not None
        assert user.password_hash is None
        membership = uow.memberships.find(user.id, host.tenant.id)
    assert membership is not None
    assert membership.status is MembershipStatus.PENDING
