"""Two advertisers under the host, each with an admin who signs in and an API token acting as
that admin, and the faces an attacker and a victim reach them through: GraphQL, the bulk
API, SCIM, the console (a browser each) and the CLI (in-process, on the same database).

The attack steps go through these faces only; the services and the unit of work are used to
set the scene up and to read the state the steps left behind.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User
from tenantry.entrypoints.cli.main import build_cli
from tenantry.services import credentials, members
from tenantry.services.context import ServiceContext
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings

from browsing import STRONG_PASSWORD, Browser, Host, person, sign_in, text_of
from factories import OPERATOR, make_account
from httpclient import HttpClient
from mailserver import Inbox

BULK = "/api/user-management/v1.0"
SCIM = "/scim/v2"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

PLANTED_PASSWORD = "Planted-By-The-Attacker-7"
OWNER_PASSWORD = "The-Real-Owner-Chose-This-42"
SIGN_IN_TO_ACCEPT = "This address already has a login: sign in with it to accept the invitation."
ADDRESS_CHANGED = "Your sign-in address was changed"

ADD_USER_WITH_ROLE = """mutation add($input: AddUserWithRoleInput!) {
  userMutations { addUserWithRole(input: $input) {
    userAlreadyExist invitationLink user { id email status roles { name } }
  } }
}"""
REMOVE_USER = """mutation remove($input: RemoveUserFromTenantInput!) {
  userMutations { removeUserFromTenant(input: $input) }
}"""
CHANGE_ROLE = """mutation change($input: ChangeRoleForUserInput!) {
  userMutations { changeRoleForUser(input: $input) { user { id roles { name } } } }
}"""
UPDATE_TENANT = """mutation update($input: UpdateTenantInput!) {
  tenantMutations { updateTenant(input: $input) { tenant { id status canPartnerManage } } }
}"""
TRANSFER_OWNERSHIP = """mutation transfer($input: TransferTenantOwnershipInput!) {
  tenantMutations { transferTenantOwnership(input: $input) { tenant { id } } }
}"""
TENANT_USERS = """query users($tenantId: String!) {
  tenant(tenantId: $tenantId) { id status canPartnerManage users { id email } }
}"""


@dataclass
class Scene:
    """host → advertisers A (the attacker's) and B (the victim's target), each with an admin
    who signs in with `STRONG_PASSWORD` and an API token acting as that admin. `host.token`
    is the host's API account: an admin of the parent of both."""

    ctx: ServiceContext
    client: HttpClient
    database_url: str
    host: Host
    a: Account
    a_admin: User
    a_token: str
    b: Account
    b_admin: User
    b_token: str

    # -- GraphQL ---------------------------------------------------------------------------

    def graphql(self, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            "/hub/graphql/",
            json={"query": query, "variables": variables},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def add_user_with_role(self, token: str, email: str, role_name: str) -> dict[str, Any]:
        """`addUserWithRole`, which must succeed: its answer (userAlreadyExist, link, user)."""
        body = self.graphql(
            token, ADD_USER_WITH_ROLE, {"input": {"email": email, "roleName": role_name}}
        )
        assert "errors" not in body, body
        answer: dict[str, Any] = body["data"]["userMutations"]["addUserWithRole"]
        return answer

    # -- REST faces ------------------------------------------------------------------------

    def bulk(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, BULK + path, headers=bearer(token), **kwargs)

    def scim(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, SCIM + path, headers=bearer(token), **kwargs)

    def scim_patch(self, token: str, user_id: str, *operations: dict[str, Any]) -> httpx.Response:
        body = {"schemas": [SCIM_PATCH], "Operations": list(operations)}
        return self.scim("PATCH", f"/Users/{user_id}", token, json=body)

    # -- reading the state -----------------------------------------------------------------

    def user(self, email: str) -> User:
        with self.ctx.uow(readonly=True) as uow:
            found = uow.users.find_by_email(email)
        assert found is not None, f"no user {email}"
        return found

    def user_by_id(self, user_id: str) -> User:
        with self.ctx.uow(readonly=True) as uow:
            return uow.users.get(user_id)

    def status_in(self, account: Account, email: str) -> MembershipStatus:
        """The membership's status in `account`, read through the members service."""
        member = members.get_member(self.ctx, OPERATOR, account.id, self.user(email).id)
        return member.membership.status

    def role_in(self, account: Account, user_id: str) -> str:
        return members.get_member(self.ctx, OPERATOR, account.id, user_id).role.key

    def token_for(self, account: Account, email: str) -> str:
        """An API token acting as the member `email` of `account` (set up by the operator)."""
        _, token, _ = credentials.create_api_token(self.ctx, OPERATOR, account.id, user_email=email)
        return token

    def is_member(self, account: Account, user_id: str) -> bool:
        with self.ctx.uow(readonly=True) as uow:
            return uow.memberships.find(user_id, account.id) is not None


def build_scene(ctx: ServiceContext, client: HttpClient, database_url: str, host: Host) -> Scene:
    a = make_account(ctx, parent=host.account, name="Planter Brand")
    b = make_account(ctx, parent=host.account, name="Victim Brand")
    a_admin = _user(ctx, person(ctx, a, role="admin"))
    b_admin = _user(ctx, person(ctx, b, role="admin"))
    scene = Scene(ctx, client, database_url, host, a, a_admin, "", b, b_admin, "")
    scene.a_token = scene.token_for(a, a_admin.email)
    scene.b_token = scene.token_for(b, b_admin.email)
    return scene


def _user(ctx: ServiceContext, email: str) -> User:
    with ctx.uow(readonly=True) as uow:
        found = uow.users.find_by_email(email)
    assert found is not None
    return found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The single error of a GraphQL answer."""
    assert "errors" in body, body
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def scim_error(response: httpx.Response, status: int) -> str:
    """The detail of a SCIM Error answer with `status`, after checking its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [SCIM_ERROR], body
    assert body["status"] == str(status), body
    detail: str = body.get("detail", "")
    return detail


# -- people at browsers -----------------------------------------------------------------------


def signed_in(browser: Browser, email: str, password: str = STRONG_PASSWORD) -> Browser:
    """`browser`, signed in to the console as `email` (which must work)."""
    answer = sign_in(browser, email, password)
    assert answer.status_code == 303, text_of(answer)
    assert answer.headers["location"] == "/hub/", answer.headers["location"]
    return browser


def csrf_of(browser: Browser) -> str:
    """The session's CSRF token, as every console form carries it."""
    return browser.form(browser.get("/hub/settings"), "/auth/logout").fields["csrf_token"]


def shown_secret(page: httpx.Response) -> str:
    """The secret a console page shows once (an API account's or an API token's)."""
    found = re.search(r'<input id="new-secret"[^>]*\bvalue="([^"]+)"', page.text)
    assert found, text_of(page)[:800]
    return html.unescape(found.group(1))


def invitation_mail_link(inbox: Inbox, to: str, account: Account) -> str:
    """The link in the newest invitation to `account` mailed to `to`."""
    return _mailed(inbox, to, f"You are invited to {account.name}")


def reset_mail_link(inbox: Inbox, to: str) -> str:
    return _mailed(inbox, to, "Reset your password")


def _mailed(inbox: Inbox, to: str, subject: str) -> str:
    found = [m for m in inbox.messages if m["To"] == to and m["Subject"] == subject]
    assert found, (
        f"no mail {subject!r} to {to}: {[(m['To'], m['Subject']) for m in inbox.messages]}"
    )
    body = found[-1].get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    links = [w for w in text.split() if w.startswith("http://testserver/")]
    assert len(links) == 1, links
    return links[0]


def token_of(link: str) -> str:
    found = re.search(r"[?&]token=([^&]+)", html.unescape(link))
    assert found, link
    return found.group(1)


# -- the CLI, in-process on the test's database -----------------------------------------------

# Rich reads these; unset, the output is what a pipe gets: no colours, no progress bar.
_PLAIN_OUTPUT = {"COLUMNS": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1"}


def _fast_composition(settings: Settings) -> Composition:
    built = Composition(settings)
    built.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    return built


def cli(database_url: str, *args: str) -> Result:
    """`tenantry --database-url <the test's database> ...` (no SMTP: links are printed)."""
    result = CliRunner(env=_PLAIN_OUTPUT).invoke(
        build_cli(_fast_composition),
        ["--database-url", database_url, *args],
        catch_exceptions=False,
    )
    assert "Traceback" not in result.output
    return result
