"""Settings, read once from the environment (`TENANTRY_` prefix) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


class Settings(BaseSettings):
    # By name too: a field with an alias (an earlier environment name) is set by its name in code.
    model_config = SettingsConfigDict(
        env_prefix="TENANTRY_", env_file=None, extra="ignore", populate_by_name=True
    )

    database_url: str = "sqlite:///./tenantry.db"
    base_url: str = "http://localhost:8000"
    """How people and scripts reach this server; invitation links start with it."""

    role_catalogue: Path = CATALOGUE_DIR / "roles.json"
    media_source_catalogue: Path = CATALOGUE_DIR / "media_sources.json"

    invitation_ttl_days: int = Field(default=7, ge=1, le=90)
    access_token_ttl_seconds: int = Field(default=36_000, ge=60)
    credential_cache_seconds: float = Field(default=1.0, ge=0, le=1)
    """How long a process may go on trusting what it read to authenticate a token (at most a
    second: a token revoked elsewhere is refused by every process within that time; 0 reads
    the database on every request)."""

    database_pool_size: int = Field(default=20, ge=1, le=1_000)
    """Connections each process keeps open to a database server (PostgreSQL) or file."""
    database_pool_overflow: int = Field(default=20, ge=0, le=1_000)
    """Connections a process may open beyond `database_pool_size` in a burst, closed again
    when they are returned. A process holds at most the two together: with PostgreSQL's
    default of 100 connections and no pooler in between, the number of processes times their
    sum must stay under it (docs/scaling.md)."""

    sqlite_cache_mb: int = Field(default=16, ge=1, le=4_096)
    """Megabytes of database pages each SQLite connection may keep in memory (SQLite's own
    default is 2): a process holds at most this much for each connection it has open, which
    its busiest moment decides (docs/scaling.md)."""

    api_threads: int = Field(default=2, ge=1, le=64)
    """How many calls of the API faces one worker runs at once in each lane (reads, changes,
    and calls that may take seconds: bulk, network, SCIM Bulk), each in a thread, the others
    waiting their turn (`entrypoints.http.threads`). Two keep a core busy while one waits on
    a local database; a database across a slow network may want a few more."""

    max_body_bytes: int = Field(default=4_000_000, ge=1_024)
    """Largest request body accepted by any face. A network replacement of 2,000 users with
    every field is about 1.3 MB; 4 MB leaves room for that and caps what one call can send."""

    token_failures_per_window: int = Field(default=10, ge=1)
    token_failure_ceiling_per_client: int = Field(default=100, ge=1)
    token_failure_window_seconds: int = Field(default=900, ge=10)
    """Failed client-credential attempts allowed within the (sliding) window for a client id
    from one network address, and from one network address whatever client it names; past
    either, `/clients/token` refuses that address until the failures are a window old. Past
    the ceiling of failures for a client id from every address, only addresses that have not
    failed for it are still heard, once each (see `domain.throttling.Limits`)."""

    sign_in_failures_per_account_and_address: int = Field(
        default=5,
        ge=1,
        # The earlier name counted per address typed from anywhere, which let strangers lock
        # its owner out; a value set under it still bounds the guesses one place gets.
        validation_alias=AliasChoices(
            "TENANTRY_SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS",
            "TENANTRY_SIGN_IN_FAILURES_PER_ACCOUNT",
        ),
    )
    sign_in_failures_per_address: int = Field(default=20, ge=1)
    sign_in_failure_ceiling_per_account: int = Field(default=50, ge=1)
    sign_in_failure_window_seconds: int = Field(default=900, ge=60)
    """Wrong passwords or second-factor codes per e-mail address typed from one network
    address, and per network address (many accounts tried from one place), within the sliding
    window; past either, sign-in from that address is refused unchecked until the failures are
    a window old. Past the ceiling for an e-mail address from every address, only addresses
    that have not failed for it are still heard, once each."""

    reset_requests_per_account_and_address: int = Field(
        default=3,
        ge=1,
        # The earlier name, kept as the sign-in one above is.
        validation_alias=AliasChoices(
            "TENANTRY_RESET_REQUESTS_PER_ACCOUNT_AND_ADDRESS", "TENANTRY_RESET_REQUESTS_PER_ACCOUNT"
        ),
    )
    reset_requests_per_address: int = Field(default=10, ge=1)
    reset_request_ceiling_per_account: int = Field(default=10, ge=1)
    reset_request_window_seconds: int = Field(default=3600, ge=60)
    """Password reset e-mails asked for per address typed from one network address, and per
    network address, within the sliding window; past either, the request gets the same answer
    and no e-mail. Past the ceiling for an address typed, only network addresses that have not
    asked for it are still heard, once each: a stranger asking often cannot stop its owner's
    own request, and a flood needs a new network address for each further e-mail."""

    # The limits the bulk user-management API documents, on every batch of member changes;
    # the environment keeps that API's names for them.
    member_batch_calls_per_day: int = Field(
        default=100, ge=1, validation_alias=AliasChoices("TENANTRY_BULK_DAILY_QUOTA")
    )
    member_batch_max_items: int = Field(
        default=20, ge=1, validation_alias=AliasChoices("TENANTRY_BULK_MAX_USERS_PER_CALL")
    )

    smtp_host: str | None = None
    """Invitations and password resets are e-mailed when this is set; otherwise the links
    are only returned to the caller, as the CAPIG documents describe."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "tenantry <no-reply@localhost>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_ca_file: Path | None = None
    """Extra CA certificates to trust for the SMTP server (a private CA, or tests)."""
    outbox_sender: bool = True
    """The server sends the outbox's mail (when SMTP is configured) and webhook deliveries in a
    background thread. Turn it off where `tenantry outbox run` does the sending in processes of
    their own."""
    outbox_poll_seconds: float = Field(default=5.0, gt=0)
    """How often a sender looks for due mail and webhooks besides being woken by this process's
    commits: the longest a retry, or an entry written by another process, waits past its time."""

    webhooks_allow_private: bool = False
    """Webhook receivers on loopback, private, link-local or other non-public addresses are
    refused (when an endpoint is saved, and again when each delivery is sent, as the name
    resolves then) unless this is set: a receiver on the same network as tenantry."""
    webhooks_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """How long a delivery waits to connect, and then for the receiver's answer, before the
    attempt counts as failed (and is tried again later)."""

    audit_retention_days: int | None = Field(default=None, ge=1)
    """Audit events older than this many days are deleted by `tenantry audit prune`, and by
    every server every few minutes; unset, the trail is kept whole."""

    metrics: bool = False
    """Serve `GET /metrics` (Prometheus text format) to whoever reaches it."""
    metrics_token: SecretStr | None = None
    """Serve `GET /metrics` only to `Authorization: Bearer <this token>` (with or without
    `metrics`)."""

    sso_allow_insecure: bool = False
    """Let identity providers be reached over plain http and on loopback or private network
    addresses (their issuer and every endpoint their discovery names): development and tests
    only. Off, a provider must be an https site on a public address."""

    secret_key: SecretStr | None = None
    """Signs browser form tokens and flash messages: the same value (32+ bytes) in every
    process. Without it each process makes its own, which suits a single process only."""

    log_level: str = "INFO"
    log_json: bool = True
