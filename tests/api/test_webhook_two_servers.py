"""Two real servers on one PostgreSQL database, each with its outbox sender running: changes
made through both reach a receiver on 127.0.0.1 once each, in the order they were made."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tenantry.entrypoints.bulk_rest import PREFIX
from tenantry.services import credentials, webhooks
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, unique_email
from serving import running_servers
from webhook_receiver import Receiver, allow_private, receiver

__all__ = ["allow_private", "receiver"]  # fixtures, used by name

CHANGES = 12


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    env = {"TENANTRY_WEBHOOKS_ALLOW_PRIVATE": "1", "TENANTRY_OUTBOX_POLL_SECONDS": "0.2"}
    with running_servers(database_url, tmp_path, env) as bases:
        yield bases


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_servers_deliver_each_event_once_in_order(
    allow_private: ServiceContext, world: World, receiver: Receiver, servers: list[str]
) -> None:
    ctx = allow_private
    _, secret = webhooks.create_endpoint(
        ctx, OPERATOR, world.a.id, receiver.url, event_types=["membership.created"]
    )
    _, token = credentials.create_api_token(
        ctx, OPERATOR, world.a.id, user_email=world.a_admin.email
    )[:2]
    headers = {"Authorization": f"Bearer {token}"}
    emails = [unique_email("twice") for _ in range(CHANGES)]
    clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for base in servers]
    try:
        for number, email in enumerate(emails):  # one after the other, through both servers
            body = [
                {
                    "email": email,
                    "username": "Ada Lovelace",
                    "role": "admin",
                    "allow_access_to_all_future_apps": True,
                }
            ]
            answer = clients[number % 2].post(PREFIX + "/users", json=body)
            assert answer.status_code == 200, answer.text
    finally:
        for client in clients:
            client.close()

    receiver.wait_for(CHANGES)
    time.sleep(1.0)  # time for a second delivery of anything, were there one
    events = receiver.events(secret)
    assert Counter(Counter(e["data"]["id"] for e in events).values()) == {1: CHANGES}
    assert [e["data"]["after"]["user_id"] for e in events] == [
        _user_id(ctx, email) for email in emails
    ]
    servers_seen = {e["data"]["request_id"] for e in events}
    assert len(servers_seen) == CHANGES


def _user_id(ctx: ServiceContext, email: str) -> str:
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email(email)
        assert user is not None
        return user.id
