"""Per-request loaders for /hub/graphql/: each kind of data is fetched for every object the
request has met so far, the first time any one of them asks, so a tenant with 50 users costs
the same handful of queries as a tenant with one."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.roles import Role
from tenantry.entrypoints.graphql.roles import role_view
from tenantry.services import accounts, directory, gateway, members, tenant_members
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.directory import UserPlacements
from tenantry.services.gateway import Usage
from tenantry.services.member_query import UserFacts
from tenantry.services.members import MAX_PAGE, MemberPage
from tenantry.services.ports import MemberCursor
from tenantry.services.tenant_members import RoleHeld

V = TypeVar("V")

USERS_CAP = MAX_PAGE
"""The most users `Tenant.users` lists without paging arguments, and the largest page."""
TOO_MANY_USERS = (
    f"This tenant has more than {USERS_CAP:,} users: page through them with"
    " users(first: ..., after: ...) and usersConnection { endCursor hasNextPage }."
)
ROLES_LISTED = 1_000
"""The most roles of one person `User.roles` and `User.tenants` list, counting only those in
accounts the caller may see the members of (so the answer says nothing of the others)."""
TOO_MANY_ROLES = (
    "This user holds roles in more than {listed:,} accounts you can see, more than one answer"
    " lists: the bulk API, SCIM and the console list each account's users with their role."
)


class HubLoaders:
    def __init__(self, ctx: ServiceContext, actor: Actor) -> None:
        self.ctx = ctx
        self.actor = actor
        self._accounts: dict[str, Account] = {}
        self._member_pages: dict[tuple[str, int, MemberCursor | None], MemberPage] = {}
        self._placements: dict[str, UserPlacements] = {}
        self._roles: dict[str, list[Role]] = {}
        self._usage: dict[str, Usage | None] = {}
        self._own_roles: dict[str, Role | None] = {}
        self._seen_users: set[str] = set()
        self._users_of: dict[str, list[UserFacts]] = {}
        self._users_refused: dict[str, Exception] = {}
        self._held: dict[str, list[RoleHeld]] = {}
        self._role_views: dict[tuple[str, str], dict[str, Any]] = {}
        self._views_of_held: dict[int, tuple[list[RoleHeld], list[dict[str, Any]]]] = {}

    # -- accounts ------------------------------------------------------------------------------

    def account(self, account_id: str) -> Account:
        if account_id not in self._accounts:
            self.remember(accounts.get_account(self.ctx, self.actor, account_id))
        return self._accounts[account_id]

    def remember(self, account: Account) -> Account:
        self._accounts.setdefault(account.id, account)
        return account

    def replace(self, account: Account) -> None:
        """After a change, later fields of the same request see the account as it now is."""
        self._accounts[account.id] = account

    def host_account_id(self) -> str:
        """The partner/agency account `agency-…` roles and null tenant ids refer to: the
        caller's own account, or the parent of an advertiser caller."""
        home = self.actor.home_account_id
        if home is None:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT, "Name the tenant: this credential belongs to no account."
            )
        account = self.account(home)
        if account.kind is AccountKind.ADVERTISER and account.parent_id:
            return account.parent_id
        return account.id

    # -- users ---------------------------------------------------------------------------------

    def read_ahead_users(self, account_id: str) -> None:
        """Read the account with every member (`users_of`) when both will be asked for: one
        service call where the account, then its users, would take two. Its checks are the
        stricter (members, not the account alone): what it refuses, or what fails, is left
        to the fields that meet it (the users field raises it again, in its place)."""
        with contextlib.suppress(Exception):
            self.users_of(account_id)

    def users_of(self, account_id: str) -> list[UserFacts]:
        """Every member, as `Tenant.users` answers without paging arguments (up to
        `USERS_CAP`; more is an error that says to page), read together with every role each
        holds where the caller may see members and the roles the account offers (one service
        call)."""
        refused = self._users_refused.get(account_id)
        if refused is not None:
            raise refused  # once per request: every alias of the field meets the same answer
        if account_id not in self._users_of:
            try:
                found = tenant_members.tenant_members(
                    self.ctx, self.actor, account_id, at_most=USERS_CAP
                )
                if len(found.users) > USERS_CAP:
                    raise InvalidInput(ErrorCode.INVALID_INPUT, TOO_MANY_USERS, field="users")
            except Exception as error:  # a refusal, or a fault: the same for every alias
                self._users_refused[account_id] = error
                raise
            self.remember(found.account)
            self._roles.setdefault(account_id, found.roles)
            # Users holding the same roles get one list of them: `role_views` and the
            # projection then answer it once for all of them.
            alike: dict[tuple[int, ...], list[RoleHeld]] = {}
            for user in found.users:
                self._seen_users.add(user.id)
                held = found.held[user.id]
                self._held.setdefault(user.id, alike.setdefault(tuple(map(id, held)), held))
            self._users_of[account_id] = found.users
        return self._users_of[account_id]

    def roles_held(self, user_id: str) -> list[RoleHeld]:
        """The user's roles where the caller may see members: as read with their account's
        members, or else from their placements."""
        held = self._held.get(user_id)
        if held is None:
            placements = self.placements(user_id).placements
            held = self._held[user_id] = [RoleHeld(p.account, p.role) for p in placements]
        return held

    def listed_roles(self, user_id: str, field: str) -> list[RoleHeld]:
        """`roles_held` as a list field shows it: refused past `ROLES_LISTED`."""
        held = self.roles_held(user_id)
        if len(held) > ROLES_LISTED:
            message = TOO_MANY_ROLES.format(listed=ROLES_LISTED)
            raise InvalidInput(ErrorCode.INVALID_INPUT, message, field=field)
        return held

    def role_view(self, held: RoleHeld) -> dict[str, Any]:
        """A role as GraphQL shows it; made once per account and role in a request (the
        many users holding it share the same read-only view)."""
        key = (held.account.id, held.role.key)
        view = self._role_views.get(key)
        if view is None:
            view = self._role_views[key] = role_view(self.ctx.roles, held.account, held.role)
        return view

    def role_views(self, held: list[RoleHeld]) -> list[dict[str, Any]]:
        """The views of a user's roles: one list for every user holding the same ones (who
        share a `held` list), kept with that list so that its identity stays its own."""
        found = self._views_of_held.get(id(held))
        if found is not None and found[0] is held:
            return found[1]
        views = [self.role_view(h) for h in held]
        self._views_of_held[id(held)] = (held, views)
        return views

    def member_page(self, account_id: str, first: int, after: MemberCursor | None) -> MemberPage:
        """`first` members after `after`, in joining order; asked once per request."""
        key = (account_id, first, after)
        if key not in self._member_pages:
            page = members.list_members(self.ctx, self.actor, account_id, limit=first, after=after)
            self._member_pages[key] = page
            self._seen_users.update(m.user.id for m in page.items)
        return self._member_pages[key]

    def prime_placements(self, user_id: str, placements: UserPlacements) -> None:
        self._placements.setdefault(user_id, placements)
        for placement in placements.placements:
            self.remember(placement.account)

    def placements(self, user_id: str) -> UserPlacements:
        self._seen_users.add(user_id)
        loaded = self._batch(
            self._placements,
            user_id,
            self._seen_users,
            lambda ids: directory.placements_of(self.ctx, self.actor, ids),
            UserPlacements(),
        )
        for entry in loaded.values():
            for placement in entry.placements:
                self.remember(placement.account)
        return self._placements[user_id]

    # -- per account ---------------------------------------------------------------------------

    def available_roles(self, account: Account) -> list[Role]:
        self.remember(account)
        self._batch(
            self._roles,
            account.id,
            self._accounts,
            lambda ids: directory.roles_of_accounts(self.ctx, self.actor, ids),
            [],
        )
        return self._roles[account.id]

    def usage(self, account_id: str) -> Usage | None:
        self._batch(
            self._usage,
            account_id,
            self._accounts,
            lambda ids: gateway.usage_of_accounts(self.ctx, self.actor, ids),
            None,
        )
        return self._usage[account_id]

    def own_role(self, account_id: str) -> Role | None:
        """The caller's role in an account; only people (not API credentials) have UI rights."""
        if self.actor.kind is not ActorKind.USER:
            return None
        if account_id not in self._own_roles:
            self._own_roles[account_id] = members.role_of_actor(self.ctx, self.actor, account_id)
        return self._own_roles[account_id]

    @staticmethod
    def _batch(
        cache: dict[str, V],
        key: str,
        known: Collection[str],
        load: Callable[[set[str]], Mapping[str, V]],
        missing: V,
    ) -> Mapping[str, V]:
        """Load `key` together with every known key not loaded yet; what the load does not
        return (not visible to the caller) is cached as `missing`, so it is asked once."""
        if key in cache:
            return {}
        wanted = {k for k in known if k not in cache} | {key}
        loaded = load(wanted)
        for k in wanted:
            cache[k] = loaded.get(k, missing)
        return loaded
