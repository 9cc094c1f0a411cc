"""Settings, read once from the environment (`TENANTRY_` prefix) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTRY_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///./tenantry.db"
    base_url: str = "http://localhost:8000"
    """How people and scripts reach this server; invitation links start with it."""

    role_catalogue: Path = CATALOGUE_DIR / "roles.json"
    media_source_catalogue: Path = CATALOGUE_DIR / "media_sources.json"

    invitation_ttl_days: int = Field(default=7, ge=1, le=90)
    access_token_ttl_seconds: int = Field(default=36_000, ge=60)

    max_body_bytes: int = Field(default=4_000_000, ge=1_024)
    """Largest request body accepted by any face. A network replacement of 2,000 users with
    every field is about 1.3 MB; 4 MB leaves room for that and caps what one call can send."""

    token_failures_per_window: int = Field(default=10, ge=1)
    token_failure_window_seconds: int = Field(default=900, ge=10)
    """After this many failed client-credential attempts per client id or address within the
    (sliding) window, `/clients/token` refuses further attempts until they are a window old."""

    sign_in_failures_per_account: int = Field(default=5, ge=1)
    sign_in_failures_per_address: int = Field(default=20, ge=1)
    sign_in_failure_window_seconds: int = Field(default=900, ge=60)
    """Wrong passwords or second-factor codes per e-mail address typed, and per network address
    (many accounts tried from one place), within the sliding window; past either limit, sign-in
    is refused unchecked until the failures are a window old."""

    reset_requests_per_account: int = Field(default=3, ge=1)
    reset_requests_per_address: int = Field(default=10, ge=1)
    reset_request_window_seconds: int = Field(default=3600, ge=60)
    """Password reset e-mails asked for per address typed and per network address within the
    sliding window; past either limit, the request gets the same answer and no e-mail."""

    bulk_daily_quota: int = Field(default=100, ge=1)
    bulk_max_users_per_call: int = Field(default=20, ge=1)

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

    secret_key: SecretStr | None = None
    """Signs browser form tokens and flash messages: the same value (32+ bytes) in every
    process. Without it each process makes its own, which suits a single process only."""

    log_level: str = "INFO"
    log_json: bool = True
