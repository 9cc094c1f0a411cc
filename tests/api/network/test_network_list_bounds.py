"""Lists the network document defines without pages are bounded: past `LIST_CAP` entries the
answer is a 403 in the face's own format that says why, rather than an answer of any size."""

from __future__ import annotations

import pytest

from tenantry.services import managed_accounts, managed_users
from tenantry.services.context import ServiceContext

from factories import make_member
from network_support import Net, advertiser_body, user_body


def test_more_users_than_the_cap_are_refused(
    net: Net, ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = net.advertiser("adv", users=[user_body("u1")])
    make_member(ctx, account, role="view")
    assert len(net.get("/advertisers/adv/users.json").json()) == 2
    monkeypatch.setattr(managed_users, "LIST_CAP", 1)
    refused = net.get("/advertisers/adv/users.json")
    assert refused.status_code == 403, refused.text
    [message] = refused.json()["errors"]["users"]
    assert "more than 1 users" in message


def test_more_advertisers_than_the_cap_are_refused(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        net.post("/advertisers.json", json=advertiser_body(name, users=[user_body()]))
    monkeypatch.setattr(managed_accounts, "LIST_CAP", 3)
    assert len(net.get("/advertisers.json").json()) == 3
    monkeypatch.setattr(managed_accounts, "LIST_CAP", 2)
    refused = net.get("/advertisers.json")
    assert refused.status_code == 403, refused.text
    [message] = refused.json()["errors"]["advertisers"]
    assert "more than 2 advertisers" in message
