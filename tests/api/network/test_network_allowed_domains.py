"""A network's allowed e-mail domains hold for the users it sends: one outside them is a 403
in the dialect's validation format, and the users stay as they were."""

from __future__ import annotations

from tenantry.domain.account_policy import PolicyChanges
from tenantry.services.account_policy import update_account_policy

from factories import OPERATOR
from network_support import Net, user_body


def _address(address: str) -> list[dict[str, object]]:
    return [{"email_address": address, "use_for_notifications": True}]


def test_a_user_outside_the_allowed_domains_is_refused(net: Net) -> None:
    changes = PolicyChanges(allowed_email_domains=["example.com"])
    update_account_policy(net.ctx, OPERATOR, net.network.id, changes)
    before = net.get("/network.json").json()["users"]
    outside = user_body("u1", email_settings=_address("pat@elsewhere.example"))
    response = net.put("/network.json", json={"users": [outside]})
    assert response.status_code == 403, response.text
    message = "This user can't be added because this account only accepts addresses at example.com."
    problem = {"email_settings": [{"email_address": [message]}]}
    assert response.json() == {"errors": {"users": [problem]}}
    assert net.get("/network.json").json()["users"] == before
    inside = user_body("u2", email_settings=_address("pat@example.com"))
    assert net.put("/network.json", json={"users": [inside]}).status_code == 200
