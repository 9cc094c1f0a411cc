"""`tenantry users reset-link`: the operator's way back in when a password is lost and no
SMTP server is configured."""

from __future__ import annotations

import pytest

from tenantry.domain.errors import Forbidden
from tenantry.services import auth, auth_resets, setup
from tenantry.services.context import ServiceContext

from clitools import Cli
from factories import World, as_user, make_member

NEW_PASSWORD = "A-new-and-long-passphrase-42"
ORIGIN = auth.Origin(source="127.0.0.1")


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_the_link_sets_a_new_password_for_the_first_admin(cli: Cli, ctx: ServiceContext) -> None:
    init = setup.initialize(ctx)
    assert init.admin_email is not None
    report = cli.json("users", "reset-link", init.admin_email.upper())
    assert report["email"] == init.admin_email
    auth_resets.complete_password_reset(ctx, _token(report["link"]), NEW_PASSWORD, ORIGIN)
    issued = auth.sign_in(ctx, init.admin_email, NEW_PASSWORD, ORIGIN)
    assert issued.cookie
    # Asked again, the link is printed whole on one line, ready to hand over.
    again = cli.ok("users", "reset-link", init.admin_email).stdout
    [link] = [word for word in again.split() if "/auth/reset/" in word]
    assert auth_resets.check_password_reset(ctx, _token(link))


def test_only_users_who_sign_in_with_a_password_get_one(cli: Cli, world: World) -> None:
    result = cli("users", "reset-link", "nobody@example.com")
    assert result.exit_code == 1
    assert result.stderr.strip() == auth_resets.NOT_RESETTABLE


def test_people_cannot_issue_links_through_the_service(ctx: ServiceContext, world: World) -> None:
    member = make_member(ctx, world.a, role="admin")
    with pytest.raises(Forbidden):
        auth_resets.issue_password_reset(ctx, as_user(world.a_admin), member.email)
