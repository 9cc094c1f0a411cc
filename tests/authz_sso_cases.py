"""Single sign-on's services in the authorization matrix (tests/authz_cases.py): an account's
identity provider is its settings admins' (B's own admin, and the host's while B lets its
partner manage it), and nobody else's, to read as to change.

`SSO_ROWS` are run by tests/integration/test_authorization_matrix.py with the other rows.
"""

from __future__ import annotations

import itertools

from pydantic import SecretStr

from tenantry.services import sso_config
from tenantry.services.sso_config import ProviderSettings

from authz_cases import Cell, Row, expect
from factories import OPERATOR

_numbers = itertools.count(1)


def _settings(c: Cell) -> ProviderSettings:
    if c.ctx.settings.secret_key is None:  # the client secret is kept encrypted under it
        c.ctx.settings.secret_key = SecretStr("matrix-" + "k" * 32)
    return ProviderSettings(
        issuer="https://idp.example.com",
        client_id="matrix",
        client_secret="matrix-secret",
        domains=[f"matrix{next(_numbers)}.example"],
        jit_role_key="view",
    )


def _provider_of_b(c: Cell) -> None:
    sso_config.set_identity_provider(c.ctx, OPERATOR, c.target.id, _settings(c))


SSO_ROWS: tuple[Row, ...] = (
    Row(sso_config.set_identity_provider, expect(), prepare=_settings),
    Row(
        sso_config.identity_provider,
        expect(),
        call=lambda c: sso_config.identity_provider(c.ctx, c.actor, c.account_id),
        prepare=_provider_of_b,
        writes=False,
        reveals=lambda view, c: view is not None and view.account_id == c.target.id,
    ),
    Row(
        sso_config.identity_provider_form,
        expect(),
        call=lambda c: sso_config.identity_provider_form(c.ctx, c.actor, c.account_id),
        prepare=_provider_of_b,
        writes=False,
        reveals=lambda found, c: found[0] is not None and found[0].account_id == c.target.id,
    ),
    Row(
        sso_config.remove_identity_provider,
        expect(),
        call=lambda c: sso_config.remove_identity_provider(c.ctx, c.actor, c.account_id),
        prepare=_provider_of_b,
    ),
)
