"""An account's allowed e-mail domains hold for users an identity provider provisions: one
outside them is a 409 in SCIM's error format, and nobody is added."""

from __future__ import annotations

from tenantry.domain.account_policy import PolicyChanges
from tenantry.services.account_policy import update_account_policy

from factories import OPERATOR
from scim_support import Scim, error_of, new_user


def test_a_user_outside_the_allowed_domains_is_refused(scim: Scim) -> None:
    changes = PolicyChanges(allowed_email_domains=["allowed.example"])
    update_account_policy(scim.ctx, OPERATOR, scim.account.id, changes)
    detail = error_of(scim.post("/Users", new_user("pat@elsewhere.example")), 409)
    assert detail == (
        "email: This user can't be added because this account only accepts addresses at "
        "allowed.example."
    )
    assert scim.find('userName eq "pat@elsewhere.example"') == []
    assert scim.create_user("pat@allowed.example")["userName"] == "pat@allowed.example"
