"""The policy on the audit trail: who reads it (on every face: the console's page, the API,
exports) and who deletes what has aged past the retention."""

from __future__ import annotations

from tenantry.domain.errors import ErrorCode, Forbidden
from tenantry.domain.roles import Need
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import require
from tenantry.services.ports import UnitOfWork


def check_may_read_audit(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str | None
) -> None:
    """An account's trail is for whoever's role there reads the audit log (`Need.READ_AUDIT`,
    held or inherited); the whole trail (`account_id` None) is the operator's only."""
    if account_id is None:
        _operator_only(actor)
    else:
        require(ctx, uow, actor, account_id, Need.READ_AUDIT)


def check_may_prune_audit(actor: Actor) -> None:
    """Only the operator (the command line, the server's own pruning) deletes events."""
    _operator_only(actor)


def _operator_only(actor: Actor) -> None:
    if not actor.is_system:
        raise Forbidden(ErrorCode.FORBIDDEN)
