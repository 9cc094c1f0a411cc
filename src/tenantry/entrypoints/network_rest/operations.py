"""What each route of the network integration does once the caller is known: parse the body
into a command (`parsing`), call one service, render its answer, with the core's refusals
worded as the documents word them (`in_face_terms`). Runs in the server's thread pool."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tenantry.domain.errors import NotFound
from tenantry.domain.managed import BLANK, InvalidNetworkInput
from tenantry.entrypoints.network_rest import parsing
from tenantry.entrypoints.network_rest.parsing import NOT_OBJECT
from tenantry.entrypoints.network_rest.roles import named_roles
from tenantry.entrypoints.network_rest.views import (
    advertiser_json,
    network_json,
    user_json,
    users_json,
)
from tenantry.services import managed_accounts, managed_users
from tenantry.services.context import Actor, ServiceContext


@dataclass(frozen=True, slots=True)
class Call:
    """One request, parsed: the version and network in its path, the other path parameters,
    and its JSON body (an object, without the token it may carry)."""

    version: str
    network_id: str
    params: Mapping[str, str]
    body: Mapping[str, Any] | None


Answer = tuple[Any, int]
Operation = Callable[[ServiceContext, Actor, Call], Answer]


def in_face_terms(operation: Operation) -> Operation:
    """`operation`, with unknown roles told by this face's role names and what was not found
    by the ids in the URL, as the documents word them."""

    @functools.wraps(operation)
    def worded(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
        try:
            with named_roles(ctx.roles):
                return operation(ctx, actor, call)
        except NotFound as error:
            message = _not_found(error.field, call)
            if message is None:
                raise
            raise NotFound(error.code, message, field=error.field) from None

    return worded


def _not_found(field: str | None, call: Call) -> str | None:
    advertiser_id, user_id = call.params.get("advertiser_id"), call.params.get("user_id")
    if field == "network_id":
        return f"Could not find Network {call.network_id}"
    if field == "advertiser_id" and advertiser_id is not None:
        return f"Could not find Advertiser {advertiser_id} for network {call.network_id}"
    if field == "user_id" and user_id is not None and advertiser_id is not None:
        return f"Could not find User {user_id} for advertiser {advertiser_id}"
    return None


# -- the network ---------------------------------------------------------------------------------


@in_face_terms
def get_network(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    return network_json(ctx, managed_users.get_network(ctx, actor, call.network_id)), 200


def replace_network(status: int) -> Operation:
    """POST and PUT do the same; POST answers 201, PUT 200, as the documents say."""

    @in_face_terms
    def operation(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
        users = parsing.network_users((call.body or {}).get("users"), ctx.roles)
        view = managed_users.replace_network_users(ctx, actor, call.network_id, users)
        return network_json(ctx, view), status

    return operation


# -- advertisers ---------------------------------------------------------------------------------


@in_face_terms
def list_advertisers(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    views = managed_accounts.list_advertisers(ctx, actor, call.network_id)
    return [_advertiser(ctx, call, v) for v in views], 200


@in_face_terms
def get_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    view = managed_accounts.get_advertiser(
        ctx, actor, call.network_id, call.params["advertiser_id"]
    )
    return _advertiser(ctx, call, view), 200


@in_face_terms
def create_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """POST: 201 when it created the advertiser, 200 when it updated it."""
    result = _upsert_advertiser(ctx, actor, call)
    return _advertiser(ctx, call, result.advertiser), 201 if result.created else 200


@in_face_terms
def update_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """PUT: creates a missing advertiser too, and answers 200 either way."""
    return _advertiser(ctx, call, _upsert_advertiser(ctx, actor, call).advertiser), 200


@in_face_terms
def delete_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    managed_accounts.delete_advertiser(ctx, actor, call.network_id, call.params["advertiser_id"])
    return {}, 200


def _advertiser(ctx: ServiceContext, call: Call, view: managed_accounts.AdvertiserView) -> Any:
    return advertiser_json(ctx, view, version=call.version, network_id=call.network_id)


def _upsert_advertiser(
    ctx: ServiceContext, actor: Actor, call: Call
) -> managed_accounts.UpsertedAdvertiser:
    """The advertiser the body describes; its id is the body's, else the one in the URL."""
    spec = parsing.advertiser(_advertiser_body(call), ctx.roles, call.params.get("advertiser_id"))
    return managed_accounts.upsert_advertiser(ctx, actor, call.network_id, spec)


def _advertiser_body(call: Call) -> Mapping[str, Any]:
    """The advertiser object: the body itself, or the object under `advertiser` for
    callers that wrap it."""
    body = call.body or {}
    wrapped = body.get("advertiser")
    if isinstance(wrapped, Mapping) and set(body) == {"advertiser"}:
        return wrapped
    return body


# -- an advertiser's users -----------------------------------------------------------------------


@in_face_terms
def list_users(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    members = managed_users.list_advertiser_users(
        ctx, actor, call.network_id, call.params["advertiser_id"]
    )
    return users_json(ctx, members), 200


@in_face_terms
def get_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    member = managed_users.get_advertiser_user(
        ctx, actor, call.network_id, call.params["advertiser_id"], call.params["user_id"]
    )
    return user_json(ctx, member), 200


@in_face_terms
def create_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """POST: 201 when the user joined the advertiser, 200 when it was updated."""
    result = _upsert_user(ctx, actor, call)
    return user_json(ctx, result.member), 201 if result.created else 200


@in_face_terms
def update_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """PUT: creates a missing user too, and answers 200 either way."""
    return user_json(ctx, _upsert_user(ctx, actor, call).member), 200


@in_face_terms
def delete_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    managed_users.delete_advertiser_user(
        ctx, actor, call.network_id, call.params["advertiser_id"], call.params["user_id"]
    )
    return {}, 200


def _upsert_user(ctx: ServiceContext, actor: Actor, call: Call) -> managed_users.UpsertedMember:
    """The user the body describes; its id is the body's, else the one in the URL."""
    spec = parsing.advertiser_user(_user_body(call), ctx.roles, call.params.get("user_id"))
    return managed_users.upsert_advertiser_user(
        ctx, actor, call.network_id, call.params["advertiser_id"], spec
    )


def _user_body(call: Call) -> Mapping[str, Any]:
    user = (call.body or {}).get("user")
    if user is None:
        raise InvalidNetworkInput.one(("user",), BLANK)
    if not isinstance(user, Mapping):
        raise InvalidNetworkInput.one(("user",), NOT_OBJECT)
    return user
