"""The browser face on a deployment that mails (a real SMTP server on 127.0.0.1), with a clock
the tests move, and a person's browser to drive it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI

from tenantry.app import Composition
from tenantry.entrypoints.server import create_http_app
from tenantry.services import setup
from tenantry.services.context import ServiceContext
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings

from browsing import Browser, Clock, Host
from factories import make_account
from httpclient import DEFAULT_ADDRESS, HttpClient, http_client
from mailserver import Inbox, send_outbox_after_commit


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def composition(
    database_url: str, mail_server: tuple[Inbox, int], clock: Clock
) -> Iterator[Composition]:
    """The application on the test's database, mailing through the test's SMTP server."""
    settings = Settings(
        database_url=database_url,
        base_url="http://testserver",
        smtp_host="127.0.0.1",
        smtp_port=mail_server[1],
        smtp_security="none",
        # The test's SMTP server answers from a thread a loaded machine can hold up for
        # seconds (an invitation once timed out at 2 s); no test here waits on a timeout.
        smtp_timeout_seconds=10,
        sso_allow_insecure=True,  # the identity providers of the tests run on 127.0.0.1
    )
    built = Composition(settings)
    built.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    built.context.clock = clock
    send_outbox_after_commit(built.context)
    try:
        yield built
    finally:
        built.dispose()


@pytest.fixture
def app(composition: Composition) -> FastAPI:
    return create_http_app(composition.context, readiness=composition.check_database)


@pytest.fixture
def browser(client: HttpClient) -> Browser:
    return Browser(client)


@pytest.fixture
def new_browser(app: FastAPI) -> Iterator[Callable[..., Browser]]:
    """Another browser (its own cookies) on the same server, opened on demand."""
    with ExitStack() as stack:

        def open_browser(
            base_url: str = "http://testserver", *, address: str = DEFAULT_ADDRESS
        ) -> Browser:
            return Browser(stack.enter_context(http_client(app, base_url, address=address)))

        yield open_browser


@pytest.fixture
def host(ctx: ServiceContext, client: HttpClient) -> Host:
    init = setup.initialize(ctx)
    assert init.client_id is not None
    assert init.client_secret is not None
    response = client.post(
        "/clients/token",
        data={
            "client_id": init.client_id,
            "client_secret": init.client_secret,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200, response.text
    with ctx.uow(readonly=True) as uow:
        account = uow.accounts.get(init.account_id)
    tenant = make_account(ctx, parent=account, name="Acme Advertiser")
    return Host(ctx, client, account, response.json()["access_token"], tenant)
