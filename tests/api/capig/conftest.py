"""An advertiser under the host to work on, through the app the server builds (tests/api)."""

from __future__ import annotations

import pytest
from capig_support import Capig, bearer_for

from tenantry.domain.accounts import AccountKind
from tenantry.services import accounts, setup
from tenantry.services.context import ServiceContext

from factories import OPERATOR
from httpclient import HttpClient


@pytest.fixture
def capig(client: HttpClient, ctx: ServiceContext) -> Capig:
    init = setup.initialize(ctx)
    assert init.client_id is not None
    assert init.client_secret is not None
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(init.account_id)
    tenant = accounts.create_account(
        ctx, OPERATOR, name="Shop", kind=AccountKind.ADVERTISER, parent_id=host.id
    )
    return Capig(client, bearer_for(client, init.client_id, init.client_secret), host, tenant)
