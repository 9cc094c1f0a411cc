"""`tenantry accounts`: create and list accounts, hand ownership over, and show or change an
account's security policy."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tenantry.domain.account_policy import KEEP, Keep, PolicyChanges
from tenantry.domain.accounts import Account, AccountKind, SsoMode
from tenantry.entrypoints.cli.options import JsonOption
from tenantry.entrypoints.cli.output import counted, plain, print_json
from tenantry.entrypoints.cli.runtime import Runtime, runtime
from tenantry.services import account_policy, accounts
from tenantry.services.account_policy import PolicyUpdate

app = typer.Typer(help="Partner, agency and advertiser accounts.", no_args_is_help=True)

AccountId = Annotated[str, typer.Argument(help="Account id.", show_default=False)]


def status_label(account: Account) -> str:
    return account.status.name.lower().replace("_", " ")


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Account name.", show_default=False)],
    kind: Annotated[AccountKind, typer.Option(help="Kind of account.", show_default=False)],
    parent: Annotated[
        str | None, typer.Option(help="Parent account id (none for a top-level account).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an account, at the top or under a parent."""
    state = runtime(ctx)
    account = accounts.create_account(
        state.services, state.actor, name=name, kind=kind, parent_id=parent
    )
    if as_json:
        print_json(
            {
                "id": account.id,
                "name": account.name,
                "kind": account.kind.value,
                "parent_id": account.parent_id,
                "status": int(account.status),
            }
        )
        return
    where = Text.assemble(" under ", plain(account.parent_id)) if account.parent_id else ""
    state.out.print(
        Text.assemble(
            f"Created {account.kind.value} account ",
            (account.name, "bold"),
            " with id ",
            (account.id, "bold"),
            where,
            ".",
        )
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    parent: Annotated[str | None, typer.Option(help="Only the children of this account.")] = None,
    search: Annotated[str | None, typer.Option(help="Only names containing this text.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=accounts.MAX_PAGE)] = 50,
    after: Annotated[
        str | None, typer.Option(help="Continue after this account id (the previous page's last).")
    ] = None,
) -> None:
    """List accounts, ordered by id, a page at a time."""
    state = runtime(ctx)
    found = accounts.list_accounts(
        state.services, state.actor, parent_id=parent, search=search, limit=limit, after=after
    )
    table = Table("id", "name", "kind", "parent", "status", title=counted(len(found), "account"))
    for account in found:
        table.add_row(
            plain(account.id),
            plain(account.name),
            plain(account.kind.value),
            plain(account.parent_id),
            plain(status_label(account)),
        )
    state.out.print(table)
    if len(found) == limit:
        state.out.print(Text(f"More may follow: --after {found[-1].id}", style="dim"))


@app.command("transfer-ownership")
def transfer_ownership(
    ctx: typer.Context,
    account: AccountId,
    to: Annotated[
        str,
        typer.Option("--to", help="E-mail of an active admin of the account.", show_default=False),
    ],
    as_json: JsonOption = False,
) -> None:
    """Make another active admin of the account its owner (the owner's protections move with
    it: the new owner can't be removed, deactivated or demoted; the former one can)."""
    state = runtime(ctx)
    changed, new_owner = accounts.transfer_ownership(
        state.services, state.actor, account, new_owner_email=to
    )
    if as_json:
        print_json(
            {"account_id": changed.id, "owner_user_id": new_owner.id, "email": new_owner.email}
        )
        return
    state.out.print(
        Text.assemble(
            plain(new_owner.email),
            " now owns ",
            (changed.name, "bold"),
            " [",
            plain(changed.id),
            "].",
        )
    )


def _lifetime(value: str | None, option: str) -> int | Keep | None:
    """An option's number, or None for `default` (the deployment's); KEEP when not given."""
    if value is None:
        return KEEP
    if value.strip().lower() == "default":
        return None
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter("a whole number, or `default`", param_hint=option) from None


def _domains(value: str | None) -> list[str] | None:
    return None if value is None else [d for d in value.split(",") if d.strip()]


def policy_json(update: PolicyUpdate) -> dict[str, Any]:
    account = update.account
    return {
        "account_id": account.id,
        "multi_account_users": account.multi_account_users,
        "two_factor_required": account.two_factor_required,
        "sso": account.sso_mode.value,
        "invitation_days": account.invitation_ttl_days,
        "allowed_email_domains": list(account.allowed_email_domains),
        "session_minutes": account.session_lifetime_minutes,
        "affected_members": [
            {
                "reason": a.breach.value,
                "consequence": a.consequence,
                "count": a.total,
                "users": [{"id": m.user_id, "email": m.email} for m in a.members],
            }
            for a in update.affected
        ],
        "sessions_shortened": update.sessions_shortened,
    }


def _print_policy(state: Runtime, update: PolicyUpdate) -> None:
    account = update.account
    table = Table("setting", "value", title=f"Security policy of {account.name} [{account.id}]")
    default = "the deployment's default"
    for name, value in (
        ("users in several accounts", "allowed" if account.multi_account_users else "refused"),
        ("two-factor sign-in", "required" if account.two_factor_required else "optional"),
        ("single sign-on", account.sso_mode.value),
        ("invitation days", account.invitation_ttl_days or default),
        ("allowed e-mail domains", ", ".join(account.allowed_email_domains) or "any"),
        ("session minutes", account.session_lifetime_minutes or default),
    ):
        table.add_row(plain(name), plain(value))
    state.out.print(table)
    for affected in update.affected:
        state.out.print(Text(f"{counted(affected.total, 'member')}: {affected.consequence}"))
        for member in affected.members:
            state.out.print(Text.assemble("  ", plain(member.email)))
        if affected.total > len(affected.members):
            state.out.print(Text(f"  and {affected.total - len(affected.members)} more", "dim"))
    if update.sessions_shortened:
        shortened = counted(update.sessions_shortened, "console session")
        state.out.print(Text(f"{shortened} of members end sooner now."))


@app.command()
def policy(
    ctx: typer.Context,
    account: AccountId,
    multi_account: Annotated[
        bool | None,
        typer.Option(
            "--multi-account/--no-multi-account",
            help="Whether its users may also be in other accounts.",
            show_default=False,
        ),
    ] = None,
    require_2fa: Annotated[
        bool | None,
        typer.Option(
            "--require-2fa/--no-require-2fa",
            help="Whether its members must sign in with a second factor.",
            show_default=False,
        ),
    ] = None,
    sso: Annotated[SsoMode | None, typer.Option(help="Single sign-on.", show_default=False)] = None,
    invitation_days: Annotated[
        str | None,
        typer.Option(help="Days an invitation lasts (1-90), or `default`.", show_default=False),
    ] = None,
    allowed_domains: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated e-mail domains new members need; an empty value: any.",
            show_default=False,
        ),
    ] = None,
    session_minutes: Annotated[
        str | None,
        typer.Option(
            help="Minutes a console session of its members lasts at most (5-720), or `default`.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show an account's security policy or, with options, change it (other settings stay).
    Current members keep their memberships; those a stricter policy affects are listed."""
    state = runtime(ctx)
    changes = PolicyChanges(
        multi_account_users=multi_account,
        two_factor_required=require_2fa,
        sso_mode=sso,
        invitation_ttl_days=_lifetime(invitation_days, "--invitation-days"),
        allowed_email_domains=_domains(allowed_domains),
        session_lifetime_minutes=_lifetime(session_minutes, "--session-minutes"),
    )
    if changes == PolicyChanges():
        update = PolicyUpdate(accounts.get_account(state.services, state.actor, account))
    else:
        update = account_policy.update_account_policy(state.services, state.actor, account, changes)
    if as_json:
        print_json(policy_json(update))
        return
    _print_policy(state, update)
