"""The six messages of AppsFlyer's add table that depend on an account's settings, reached as an
operator reaches them: the settings are changed through GraphQL, the CLI or the console (never
written to the database here), then the bulk add refuses the user with the document's words.
The allowed e-mail domains of the security policy refuse new members the same way."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.entrypoints.cli.main import build_cli
from tenantry.services import credentials
from tenantry.settings import Settings

from bulk_support import Bulk, add_message, new_user
from factories import OPERATOR, make_member

PASSWORD = "Correct-Horse-42-battery"
SetPolicy = Callable[[Account, dict[str, Any]], None]
UPDATE = """mutation ($input: UpdateTenantPolicyInput!) {
  tenantMutations { updateTenantPolicy(input: $input) { policy { sso } } }
}"""


def _through_graphql(bulk: Bulk) -> SetPolicy:
    """As a script with the host admin's API token (the parent, with partner reach)."""
    _, token, _ = credentials.create_api_token(
        bulk.ctx, OPERATOR, bulk.world.host.id, user_email=bulk.world.host_admin.email
    )
    names = {"multi_account": "multiAccountUsers", "require_2fa": "twoFactorRequired"}

    def set_policy(account: Account, policy: dict[str, Any]) -> None:
        fields: dict[str, Any] = {names.get(k, k): v for k, v in policy.items()}
        if "sso" in fields:
            fields["sso"] = fields["sso"].upper()
        if "domains" in fields:
            fields["allowedEmailDomains"] = fields.pop("domains")
        response = bulk.client.post(
            "/hub/graphql/",
            json={"query": UPDATE, "variables": {"input": {"tenantId": account.id, **fields}}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert "errors" not in response.json(), response.text

    return set_policy


def _through_the_cli(bulk: Bulk) -> SetPolicy:
    url = bulk.ctx.settings.database_url

    def composition(settings: Settings) -> Composition:
        return Composition(settings)

    def set_policy(account: Account, policy: dict[str, Any]) -> None:
        args = ["--database-url", url, "accounts", "policy", account.id]
        for key, value in policy.items():
            if key == "domains":
                args += ["--allowed-domains", ",".join(value)]
            elif key == "sso":
                args += ["--sso", value.lower()]
            else:
                args.append(f"--{'' if value else 'no-'}{key.replace('_', '-')}")
        result = CliRunner().invoke(build_cli(composition), args, catch_exceptions=False)
        assert result.exit_code == 0, result.output

    return set_policy


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return html.unescape(found.group(1))


def _through_the_console(bulk: Bulk) -> SetPolicy:
    """As a person signed in to the console: an admin of the host, the accounts' parent."""
    admin = make_member(bulk.ctx, bulk.world.host, role="admin")
    with bulk.ctx.uow() as uow:
        admin.password_hash = bulk.ctx.passwords.hash(PASSWORD)
        uow.users.update(admin)
    client = bulk.client
    login = client.get("/auth/login").text
    signed = client.post(
        "/auth/login",
        data={"csrf_token": _csrf(login), "email": admin.email, "password": PASSWORD},
    )
    assert signed.status_code == 303, signed.text

    def set_policy(account: Account, policy: dict[str, Any]) -> None:
        url = f"/hub/accounts/{account.id}/settings"
        page = client.get(url)
        assert page.status_code == 200
        form = {
            "csrf_token": _csrf(page.text),
            "multi_account_users": "no" if policy.get("multi_account") is False else "yes",
            "two_factor_required": "yes" if policy.get("require_2fa") else "no",
            "sso": policy.get("sso", "off").lower(),
            "allowed_email_domains": ",".join(policy.get("domains", [])),
        }
        saved = client.post(url, data=form)
        assert saved.status_code == 303, saved.text

    return set_policy


FACES = {"graphql": _through_graphql, "cli": _through_the_cli, "console": _through_the_console}


@pytest.fixture(params=sorted(FACES))
def set_policy(request: pytest.FixtureRequest, bulk: Bulk) -> SetPolicy:
    return FACES[request.param](bulk)


@pytest.mark.parametrize(
    ("where", "policy", "message"),
    [
        (
            "other",
            {"multi_account": False},
            "This user is in another account that doesn't currently support users in multiple "
            "accounts.",
        ),
        (
            "this",
            {"multi_account": False},
            "This account doesn't currently support adding users in multiple accounts.",
        ),
        (
            "other",
            {"sso": "allowed"},
            "This user can't be added because they're in an account that uses SSO.",
        ),
        ("this", {"sso": "required"}, "This user can't be added because this account uses SSO."),
        (
            "other",
            {"require_2fa": True},
            "This user can't be added because they're in an account that uses 2FA.",
        ),
        ("this", {"require_2fa": True}, "This user can't be added because this account uses 2FA."),
    ],
    ids=["other-single", "this-single", "other-sso", "this-sso", "other-2fa", "this-2fa"],
)
def test_a_setting_changed_by_a_face_refuses_the_add_with_the_documents_message(
    bulk: Bulk, set_policy: SetPolicy, where: str, policy: dict[str, Any], message: str
) -> None:
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    set_policy(bulk.account if where == "this" else bulk.world.b, policy)
    assert add_message(bulk, new_user(user.email)) == message


def test_allowed_domains_set_by_a_face_refuse_new_members(
    bulk: Bulk, set_policy: SetPolicy
) -> None:
    set_policy(bulk.account, {"domains": ["allowed.example"]})
    message = add_message(bulk, new_user("someone@example.com"))
    assert message == (
        "This user can't be added because this account only accepts addresses at allowed.example."
    )
    response = bulk.add([new_user("someone@allowed.example")])
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == []
