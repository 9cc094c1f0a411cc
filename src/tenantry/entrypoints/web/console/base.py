"""What every console page stands on: who is looking, the account a page is about, rendering
in the console layout, and the core's errors shown where they belong.

A page handler is an `async def (request, viewer) -> Response` (a form's also takes the
form), a method of its part's `ConsolePages`; `Console.page` and `Console.action` wrap it into
an endpoint that first makes sure a person is fully signed in (and, for a form post, that its
CSRF token is right), and that turns a `DomainError` the services raise into the console's own
error page. Someone not signed in is `Unauthenticated`, which the face answers with the sign-in
page (`router.web_app`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, ParamSpec, TypeVar
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tenantry.domain.accounts import Account
from tenantry.domain.auth import SessionStage
from tenantry.domain.errors import DomainError, ErrorCode, Forbidden, Unauthenticated
from tenantry.domain.roles import Need, Role
from tenantry.entrypoints.http.errors import http_status
from tenantry.entrypoints.http.middleware import request_id_of
from tenantry.entrypoints.web.pages import Flash, Pages, Web, return_url, stage_page
from tenantry.services import accounts, members
from tenantry.services.auth import SignedIn
from tenantry.services.context import Actor

P = ParamSpec("P")
T = TypeVar("T")

FORM_ERROR = "_form"
"""The key of an error that belongs to no one field: shown above the form."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person looking at a console page, and the actor their calls run as."""

    signed_in: SignedIn
    actor: Actor

    @property
    def user_id(self) -> str:
        return self.signed_in.user.id


@dataclass(frozen=True, slots=True)
class AccountView:
    """The account a page is about, with the viewer's role there (for what the page offers;
    the services check every call again)."""

    account: Account
    role: Role | None

    def may(self, need: tuple[str, str, Any]) -> bool:
        return self.role is not None and self.role.allows(need)

    @property
    def may_manage_users(self) -> bool:
        return self.may(Need.MANAGE_USERS)

    @property
    def may_manage_api_access(self) -> bool:
        return self.may(Need.MANAGE_API_ACCESS)

    @property
    def may_read_audit(self) -> bool:
        return self.may(Need.READ_AUDIT)

    @property
    def may_manage_settings(self) -> bool:
        return self.may(Need.MANAGE_SETTINGS)


@dataclass(slots=True)
class FormState:
    """What a form shows after a failed submit: the values sent back (nothing lost) and the
    core's messages, by field name (`FORM_ERROR` for the form as a whole)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    @property
    def summary(self) -> str | None:
        return self.errors.get(FORM_ERROR)

    @classmethod
    def failed(
        cls, values: Mapping[str, str], error: DomainError, fields: Collection[str]
    ) -> FormState:
        """The form after `error`: next to the field the error names when the form has it,
        else above the form."""
        where = error.field if error.field is not None and error.field in fields else FORM_ERROR
        return cls(dict(values), {where: error.message})


PageHandler = Callable[[Request, Viewer], Awaitable[Response]]
ActionHandler = Callable[[Request, Viewer, dict[str, str]], Awaitable[Response]]


class Console:
    """The console's base: wraps handlers and renders pages in the console layout."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.ctx = web.ctx

    # -- endpoints

    def page(self, handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
        """A GET endpoint for signed-in people."""

        async def endpoint(request: Request) -> Response:
            viewer = await self._viewer(request)
            if isinstance(viewer, Response):
                return viewer
            try:
                return await handler(request, viewer)
            except DomainError as error:
                return self.error_page(request, viewer, error)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    def action(self, handler: ActionHandler) -> Callable[[Request], Awaitable[Response]]:
        """A form-post endpoint: signed in, and the form's CSRF token right."""

        async def endpoint(request: Request) -> Response:
            form = await self.web.form(request)
            viewer = await self._viewer(request)
            if isinstance(viewer, Response):
                return viewer
            if not self.web.csrf.session_valid(request, form, viewer.signed_in):
                return self.web.forbidden(request)
            try:
                return await handler(request, viewer, form)
            except DomainError as error:
                return self.error_page(request, viewer, error)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    async def _viewer(self, request: Request) -> Viewer | Response:
        """The person signed in, or the page their session belongs on (the second factor's);
        Unauthenticated without a session, which the face answers with the sign-in page."""
        signed_in = await self.web.signed_in(request)
        if signed_in is None:
            raise Unauthenticated(ErrorCode.UNAUTHENTICATED)
        if signed_in.stage is not SessionStage.COMPLETE:
            return self.web.redirect(request, stage_page(signed_in.stage, return_url(request)))
        return Viewer(signed_in, signed_in.actor(request_id_of(request.scope) or None))

    # -- calling the services

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a (blocking) service call off the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def account(self, viewer: Viewer, account_id: str) -> AccountView:
        """The account a page is about; NotFound or Forbidden when the viewer may not read it."""
        account = await self.call(accounts.get_account, self.ctx, viewer.actor, account_id)
        role = await self.call(members.role_of_actor, self.ctx, viewer.actor, account_id)
        return AccountView(account, role)

    # -- answers

    def render(
        self,
        request: Request,
        viewer: Viewer,
        template: str,
        *,
        account: AccountView | None = None,
        section: str = "",
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """A page in the console layout; `section` marks the current item of the account's
        navigation."""
        return self.web.render(
            request,
            template,
            status=status,
            signed_in=viewer.signed_in,
            viewer=viewer,
            here=account,
            section=section,
            **context,
        )

    def done(self, request: Request, url: str, text: str) -> Response:
        """After a successful post: back to a page (303), with a message saying what happened."""
        return self.web.redirect(request, url, flash=Flash("success", text))

    def error_page(self, request: Request, viewer: Viewer, error: DomainError) -> HTMLResponse:
        status = http_status(error)
        titles = {403: "Not allowed", 404: "Not found", 409: "Not possible"}
        return self.render(
            request,
            viewer,
            "console/error.html",
            status=status,
            title=titles.get(status, "Something is not right"),
            message=error.message,
        )


class ConsolePages(Pages):
    """A part of the console: one method per page or form, over the `Console` they share.
    The module's `add_*_pages` routes its URLs to the methods, wrapped by `Console.page` or
    `Console.action`."""

    section: ClassVar[str] = ""
    """The item of the account's navigation the part's pages mark as current."""

    def __init__(self, console: Console) -> None:
        super().__init__(console.web)
        self.console = console

    async def account(
        self, request: Request, viewer: Viewer, *needs: tuple[str, str, Any]
    ) -> AccountView:
        """The account of the page's URL; Forbidden unless the viewer's role there meets each
        of `needs` (for what the page offers: the services check every call again)."""
        here = await self.console.account(viewer, request.path_params["account_id"])
        if not all(here.may(need) for need in needs):
            raise Forbidden(ErrorCode.FORBIDDEN)
        return here

    def confirm(
        self,
        request: Request,
        viewer: Viewer,
        here: AccountView,
        form: Mapping[str, str],
        *,
        title: str,
        message: str,
        button: str,
        cancel_url: str,
    ) -> HTMLResponse:
        """The page that asks before a destructive action: it posts the same form again to the
        same URL, with `confirmed=yes`."""
        return self.console.render(
            request,
            viewer,
            "console/confirm.html",
            account=here,
            section=self.section,
            title=title,
            message=message,
            button=button,
            action_url=request.url.path,
            fields={k: v for k, v in form.items() if k not in ("csrf_token", "confirmed")},
            cancel_url=cancel_url,
        )


def confirmed(form: Mapping[str, str]) -> bool:
    """Whether a destructive action's form comes from its confirmation page."""
    return form.get("confirmed") == "yes"


def with_query(path: str, **params: object) -> str:
    """`path` with the query parameters that have a value."""
    kept = {k: str(v) for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(kept)}" if kept else path


def account_url(account_id: str, *parts: str) -> str:
    """The console URL of an account's page: ("aB3", "users") → /hub/accounts/aB3/users"""
    return "/".join(("/hub/accounts", account_id, *parts))
