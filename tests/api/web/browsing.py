"""A person at a browser, in-process (cookies kept, forms read off the page and sent back),
and what people and scripts do on the way in: invite, read the mail, accept, sign in."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx

from tenantry.domain.accounts import Account
from tenantry.domain.audit import AuditEvent
from tenantry.domain.auth import totp_code, totp_step
from tenantry.services.context import ServiceContext

from factories import make_member, set_policy
from httpclient import HttpClient
from mailserver import Inbox


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    """The inputs' names and values as the page has them (hidden ones included)."""


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = Form(values.get("action", ""), values.get("method", "get").lower())
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and "name" in values:
            self._open.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(response: httpx.Response) -> list[Form]:
    parser = _Forms()
    parser.feed(response.text)
    return parser.forms


def text_of(response: httpx.Response) -> str:
    """The page's text, tags removed and entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The Set-Cookie lines of an answer, by cookie name."""
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def cookie_value(set_cookie_line: str) -> str:
    return set_cookie_line.split(";", 1)[0].split("=", 1)[1].strip('"')


@dataclass
class Browser:
    client: HttpClient

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(_local(url), **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(_local(url), **kwargs)

    def open(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET `url` and follow redirects, as a browser does."""
        return self.follow(self.get(url, **kwargs))

    def follow(self, response: httpx.Response) -> httpx.Response:
        for _ in range(10):
            if response.status_code not in (301, 302, 303, 307):
                return response
            response = self.get(response.headers["location"])
        raise AssertionError("too many redirects")

    def form(self, page: httpx.Response, action: str) -> Form:
        found = [f for f in forms_of(page) if f.action == action]
        assert found, f"no form posting to {action} on the page: {text_of(page)[:500]}"
        return found[0]

    def submit(
        self,
        page: httpx.Response,
        action: str,
        *,
        headers: dict[str, str] | None = None,
        **fields: str,
    ) -> httpx.Response:
        """Fill in the form that posts to `action` and send it (redirects not followed)."""
        form = self.form(page, action)
        data = {**form.fields, **fields}
        return self.post(form.action, data=data, headers=headers or {})


def _local(url: str) -> str:
    """A link from a mail or a page, as a path on the test server."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- the way in -----------------------------------------------------------------------------

STRONG_PASSWORD = "Correct-Horse-42-battery"
ADD_USER_WITH_ROLE = """mutation add($input: AddUserWithRoleInput!) {
  userMutations { addUserWithRole(input: $input) { invitationLink user { id email status } } }
}"""


class Clock:
    """The services' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Host:
    """The host partner, an API account's bearer token for GraphQL, and an advertiser."""

    ctx: ServiceContext
    client: HttpClient
    account: Account
    token: str
    tenant: Account

    def invite(self, email: str, *, action: str = "manage", tenant: Account | None = None) -> str:
        """`addUserWithRole` over GraphQL, as a script would; the link it returns."""
        response = self.client.post(
            "/hub/graphql/",
            json={
                "query": ADD_USER_WITH_ROLE,
                "variables": {
                    "input": {
                        "email": email,
                        "roleName": f"advertiser-{action}-{(tenant or self.tenant).id}",
                    }
                },
            },
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        link: str = body["data"]["userMutations"]["addUserWithRole"]["invitationLink"]
        return link

    def require_two_factor(self, account: Account | None = None) -> None:
        set_policy(self.ctx, (account or self.tenant).id, two_factor_required=True)


def mailed_link(inbox: Inbox, to: str) -> str:
    """The link in the last mail to `to` (its plain-text part)."""
    messages = [m for m in inbox.messages if m["To"] == to]
    assert messages, f"no mail to {to}; mail went to {[m['To'] for m in inbox.messages]}"
    body = messages[-1].get_body(("plain",))
    assert body is not None
    found = [w for w in body.get_content().split() if w.startswith("http://testserver/")]
    assert len(found) == 1, found
    return found[0]


def audit(ctx: ServiceContext, action: str, **filters: Any) -> list[AuditEvent]:
    with ctx.uow(readonly=True) as uow:
        return uow.audit.query(account_ids=None, action=action, limit=100, **filters)


def current_code(secret: str, clock: Clock, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (secret as shown, spaces allowed)."""
    return totp_code(secret.replace(" ", ""), totp_step(clock.now) + steps_ahead)


def accept(browser: Browser, link: str, password: str = STRONG_PASSWORD) -> httpx.Response:
    """Open an invitation link and accept it with `password`; the answer to the form."""
    page = browser.get(link)
    assert page.status_code == 200, text_of(page)
    return browser.submit(page, "/auth/verify/", password=password)


def sign_in(browser: Browser, email: str, password: str = STRONG_PASSWORD) -> httpx.Response:
    """The two steps of the sign-in page: the address alone, then the password."""
    return browser.submit(password_step(browser, email), "/auth/login", password=password)


def password_step(browser: Browser, email: str) -> httpx.Response:
    """The page that asks for the password, after the address was sent alone."""
    page = browser.get("/auth/login")
    assert page.status_code == 200
    first = browser.form(page, "/auth/login")
    assert sorted(first.fields) == ["csrf_token", "email"]
    step = browser.submit(page, "/auth/login", email=email)
    assert step.status_code == 200, text_of(step)
    return step


def person(
    ctx: ServiceContext,
    account: Account,
    *,
    email: str | None = None,
    role: str = "manage",
    password: str = STRONG_PASSWORD,
) -> str:
    """An active member of `account` who signs in with `password`; their address."""
    user = make_member(ctx, account, role=role, email=email)
    with ctx.uow() as uow:
        user.password_hash = ctx.passwords.hash(password)
        uow.users.update(user)
    return user.email


def sign_out(browser: Browser) -> None:
    answer = browser.submit(browser.get("/auth/account"), "/auth/logout")
    assert answer.status_code == 303
