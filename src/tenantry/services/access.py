"""Explaining access: what a person may do in an account, and what grants each right."""

from __future__ import annotations

from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.domain.roles import Need
from tenantry.domain.users import normalize_email
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import Explanation, explain, require


def explain_access(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    email: str | None = None,
    user_id: str | None = None,
) -> Explanation:
    """What the user (by address or id) may do in the account, line by line with the
    membership or inheritance that grants it: the policy's own answer, not a copy of it.

    Whoever may read the account may ask about its members; the operator about anyone
    (a partner's admin who reaches the account by inheritance, say)."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        if email is not None:
            user = uow.users.find_by_email(normalize_email(email))
        else:
            user = uow.users.find(user_id or "")
        if user is None or (
            not actor.is_system and uow.memberships.find(user.id, account.id) is None
        ):
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user")
        return explain(ctx, uow, user, account)
