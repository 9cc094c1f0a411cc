"""Identity providers by account and by e-mail domain, and sign-ins under way.

A sign-in is used once: the statement that marks it used (`... WHERE used_at IS NULL`)
answers whether this call won, so a replayed answer from a provider loses.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.sso import IdentityProvider, PendingSignIn
from tenantry.storage.repositories.base import Repository
from tenantry.storage.sso_tables import sso_domains, sso_providers, sso_sign_ins

_PROVIDER = sa.select(
    sso_providers.c.account_id,
    sso_providers.c.issuer,
    sso_providers.c.client_id,
    sso_providers.c.client_secret,
    sso_providers.c.scopes,
    sso_providers.c.jit_role_key,
    sso_providers.c.require_verified_email,
    sso_providers.c.created_at,
    sso_providers.c.updated_at,
)
_BY_ACCOUNT = _PROVIDER.where(sso_providers.c.account_id == sa.bindparam("account_id"))
_BY_ACCOUNTS = _PROVIDER.where(
    sso_providers.c.account_id.in_(sa.bindparam("account_ids", expanding=True))
)
_BY_DOMAIN = _PROVIDER.join_from(sso_providers, sso_domains).where(
    sso_domains.c.domain == sa.bindparam("domain")
)
_DOMAINS_OF = (
    sa.select(sso_domains.c.account_id, sso_domains.c.domain)
    .where(sso_domains.c.account_id.in_(sa.bindparam("account_ids", expanding=True)))
    .order_by(sso_domains.c.domain)
)
_DOMAIN_HOLDERS = sa.select(sso_domains.c.domain, sso_domains.c.account_id).where(
    sso_domains.c.domain.in_(sa.bindparam("domains", expanding=True))
)
_DELETE_DOMAINS = sso_domains.delete().where(sso_domains.c.account_id == sa.bindparam("account_id"))
_DELETE_PROVIDER = sso_providers.delete().where(
    sso_providers.c.account_id == sa.bindparam("account_id")
)
_UPDATE_PROVIDER = sso_providers.update().where(
    sso_providers.c.account_id == sa.bindparam("where_account_id")
)
_SIGN_IN = sa.select(
    sso_sign_ins.c.state_hash,
    sso_sign_ins.c.binding_hash,
    sso_sign_ins.c.account_id,
    sso_sign_ins.c.nonce,
    sso_sign_ins.c.code_verifier,
    sso_sign_ins.c.next_url,
    sso_sign_ins.c.created_at,
    sso_sign_ins.c.expires_at,
    sso_sign_ins.c.used_at,
).where(sso_sign_ins.c.state_hash == sa.bindparam("state_hash"))
_USE_SIGN_IN = (
    sso_sign_ins.update()
    .where(
        sso_sign_ins.c.state_hash == sa.bindparam("of_state"),
        sso_sign_ins.c.used_at.is_(None),
    )
    .values(used_at=sa.bindparam("now"))
)
_DELETE_OLD_SIGN_INS = sso_sign_ins.delete().where(
    sso_sign_ins.c.expires_at < sa.bindparam("before")
)


class SqlSingleSignOnRepository(Repository):
    def find(self, account_id: str) -> IdentityProvider | None:
        row = self._one(_BY_ACCOUNT, {"account_id": account_id})
        if row is None:
            return None
        return _provider(row, self._domains([account_id]).get(account_id, ()))

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, IdentityProvider]:
        if not account_ids:
            return {}
        rows = self.conn.execute(_BY_ACCOUNTS, {"account_ids": list(account_ids)}).all()
        domains = self._domains([row[0] for row in rows]) if rows else {}
        return {row[0]: _provider(row, domains.get(row[0], ())) for row in rows}

    def for_domain(self, domain: str) -> IdentityProvider | None:
        row = self._one(_BY_DOMAIN, {"domain": domain})
        if row is None:
            return None
        return _provider(row, self._domains([row[0]]).get(row[0], ()))

    def domain_holders(self, domains: Collection[str]) -> dict[str, str]:
        """Which account's provider serves each of `domains` (those served at all)."""
        rows = self.conn.execute(_DOMAIN_HOLDERS, {"domains": list(domains)}).all()
        return dict(rows)

    def save(self, provider: IdentityProvider, *, new: bool) -> None:
        values = {
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "scopes": list(provider.scopes),
            "jit_role_key": provider.jit_role_key,
            "require_verified_email": provider.require_verified_email,
            "updated_at": provider.updated_at,
        }
        if new:
            self.conn.execute(
                sso_providers.insert(),
                {**values, "account_id": provider.account_id, "created_at": provider.created_at},
            )
        else:
            self.conn.execute(_UPDATE_PROVIDER, {**values, "where_account_id": provider.account_id})
        self.conn.execute(_DELETE_DOMAINS, {"account_id": provider.account_id})
        self.conn.execute(
            sso_domains.insert(),
            [{"domain": d, "account_id": provider.account_id} for d in provider.domains],
        )

    def delete(self, account_id: str) -> bool:
        self.conn.execute(_DELETE_DOMAINS, {"account_id": account_id})
        return self.conn.execute(_DELETE_PROVIDER, {"account_id": account_id}).rowcount == 1

    def _domains(self, account_ids: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for account_id, domain in self.conn.execute(_DOMAINS_OF, {"account_ids": account_ids}):
            found.setdefault(account_id, []).append(domain)
        return {account_id: tuple(domains) for account_id, domains in found.items()}

    # -- sign-ins under way

    def add_sign_in(self, pending: PendingSignIn, *, expired_before: datetime) -> None:
        """Keep a new sign-in; those that ended long ago are cleared out on the way."""
        self.conn.execute(_DELETE_OLD_SIGN_INS, {"before": expired_before})
        self.conn.execute(
            sso_sign_ins.insert(),
            {
                "state_hash": pending.state_hash,
                "binding_hash": pending.binding_hash,
                "account_id": pending.account_id,
                "nonce": pending.nonce,
                "code_verifier": pending.code_verifier,
                "next_url": pending.next_url,
                "created_at": pending.created_at,
                "expires_at": pending.expires_at,
                "used_at": None,
            },
        )

    def find_sign_in(self, state_hash: str) -> PendingSignIn | None:
        row: Any = self._one(_SIGN_IN, {"state_hash": state_hash})
        if row is None:
            return None
        return PendingSignIn(
            state_hash=row[0],
            binding_hash=row[1],
            account_id=row[2],
            nonce=row[3],
            code_verifier=row[4],
            next_url=row[5],
            created_at=row[6],
            expires_at=row[7],
            used_at=row[8],
        )

    def use_sign_in(self, state_hash: str, now: datetime) -> bool:
        """Mark a sign-in used; False when it had been already (a replay)."""
        return self.conn.execute(_USE_SIGN_IN, {"of_state": state_hash, "now": now}).rowcount == 1


def _provider(row: Any, domains: tuple[str, ...]) -> IdentityProvider:
    return IdentityProvider(
        account_id=row[0],
        issuer=row[1],
        client_id=row[2],
        client_secret=row[3],
        scopes=tuple(row[4]),
        domains=domains,
        jit_role_key=row[5],
        require_verified_email=row[6],
        created_at=row[7],
        updated_at=row[8],
    )
