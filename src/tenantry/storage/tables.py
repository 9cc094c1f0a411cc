"""The schema, as SQLAlchemy Core tables. Migrations are generated from and checked against it:
`metadata` here holds every table, the gateway's (kept in `gateway_tables`) included."""

from __future__ import annotations

import sqlalchemy as sa

from tenantry.storage.schema import ACCOUNT_ID, USER_ID
from tenantry.storage.schema import created_column as _created
from tenantry.storage.schema import metadata as metadata  # re-exported: the whole schema
from tenantry.storage.types import UTCDateTime

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", ACCOUNT_ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column(
        "parent_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    ),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("can_partner_manage", sa.Boolean, nullable=False),
    sa.Column("event_enrichment", sa.Boolean, nullable=False),
    sa.Column("id_from_network", sa.String(255)),
    sa.Column("multi_account_users", sa.Boolean, nullable=False),
    sa.Column("sso_enabled", sa.Boolean, nullable=False),
    sa.Column("two_factor_required", sa.Boolean, nullable=False),
    # No foreign key: the owner is protected from deletion by the services, and a key here
    # would make accounts and users depend on each other at creation.
    sa.Column("owner_user_id", USER_ID),
    sa.Column("invitation_ttl_days", sa.Integer),
    sa.Column("custom_data", sa.JSON, nullable=False),
    _created(),
    sa.Column("sso_required", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("allowed_email_domains", sa.JSON),  # null: any domain
    sa.Column("session_lifetime_minutes", sa.Integer),
    sa.UniqueConstraint("parent_id", "id_from_network"),
    sa.CheckConstraint("kind in ('partner', 'agency', 'advertiser')", name="kind"),
    sa.CheckConstraint("status in (0, 1, 2)", name="status"),
)
sa.Index("ix_accounts_name", accounts.c.name)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", USER_ID, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("first_name", sa.String(100)),
    sa.Column("last_name", sa.String(100)),
    sa.Column("department", sa.String(200)),
    sa.Column("contact_country_code", sa.String(8)),
    sa.Column("contact_phone_number", sa.String(32)),
    sa.Column("status", sa.SmallInteger, nullable=False),
    sa.Column("last_login_at", UTCDateTime()),
    sa.Column("expires_on", sa.Date),
    sa.Column("can_login_via_platform", sa.Boolean, nullable=False),
    sa.Column("network_account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("id_from_network", sa.String(255)),
    sa.Column("notifications", sa.JSON, nullable=False),
    sa.Column("oauth_refresh_token", sa.Text),
    sa.Column("password_hash", sa.String(255)),
    _created(),
    # The account whose action created the identity: its admins may edit it (DESIGN.md).
    sa.Column("home_account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    # When its owner last proved the address (a link only mailed, or SSO); None: unproven.
    sa.Column("email_verified_at", UTCDateTime()),
    sa.UniqueConstraint("network_account_id", "id_from_network"),
    sa.CheckConstraint("status in (0, 1, 2)", name="status"),
)

user_emails = sa.Table(
    "user_emails",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        USER_ID,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("address", sa.String(254), nullable=False, unique=True),
    sa.Column("use_for_notifications", sa.Boolean, nullable=False),
    sa.Column("position", sa.SmallInteger, nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    # The primary key is the "one membership per user and account" rule.
    sa.Column("user_id", USER_ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("role_key", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("app_ids", sa.JSON),
    sa.Column("all_future_apps", sa.Boolean, nullable=False),
    sa.Column("media_sources", sa.JSON),
    sa.Column("geos", sa.JSON),
    _created(),
    sa.CheckConstraint("status in ('pending', 'active')", name="status"),
)
sa.Index("ix_memberships_account_created", memberships.c.account_id, memberships.c.created_at)
sa.Index("ix_memberships_account_role", memberships.c.account_id, memberships.c.role_key)

custom_roles = sa.Table(
    "custom_roles",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("capabilities", sa.JSON, nullable=False),
    sa.Column("unrestricted_scope", sa.Boolean, nullable=False),
    _created(),
)

apps = sa.Table(
    "apps",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("app_id", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    _created(),
)

invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("user_id", USER_ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE")),
    sa.Column("role_key", sa.String(40)),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # A second token, only ever mailed: accepting with it proves the address.
    sa.Column("mail_token_hash", sa.String(64), unique=True),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("invited_by", sa.String(200), nullable=False),
    _created(),
    sa.Column("accepted_at", UTCDateTime()),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("delivered", sa.Boolean),
    # When its expiry was recorded (audited, and so an `invitation.expired` webhook event).
    sa.Column("expiry_recorded_at", UTCDateTime()),
)
sa.Index("ix_invitations_user_account", invitations.c.user_id, invitations.c.account_id)
sa.Index("ix_invitations_account", invitations.c.account_id)
# What the recording of expiries reads: invitations by when they expire.
sa.Index("ix_invitations_expires_at", invitations.c.expires_at)

api_accounts = sa.Table(
    "api_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "account_id",
        ACCOUNT_ID,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("client_id", sa.String(20), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("role_key", sa.String(40), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    # Where the maker's role was held when it was not the credential's own account (a parent
    # reaching down): the credential works only while that reach lasts. No foreign key: a
    # parent with children can't be deleted.
    sa.Column("minted_in_account_id", ACCOUNT_ID),
    _created(),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("last_used_at", UTCDateTime()),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(32), nullable=False, unique=True),
    sa.Column(
        "account_id",
        ACCOUNT_ID,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("user_id", USER_ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("role_key", sa.String(40), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    # Where the maker's role was held when it was not the credential's own account (a parent
    # reaching down): the credential works only while that reach lasts. No foreign key: a
    # parent with children can't be deleted.
    sa.Column("minted_in_account_id", ACCOUNT_ID),
    _created(),
    sa.Column("expires_at", UTCDateTime()),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("last_used_at", UTCDateTime()),
)

access_tokens = sa.Table(
    "access_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(32), nullable=False, unique=True),
    sa.Column(
        "api_account_id",
        sa.Integer,
        sa.ForeignKey("api_accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    _created(),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("revoked_at", UTCDateTime()),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    # No foreign key: the trail outlives the account it speaks of.
    sa.Column("account_id", ACCOUNT_ID),
    sa.Column("actor_kind", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("actor_label", sa.String(254), nullable=False),
    # A credential's actor: the user it acts as, and who minted the credential.
    sa.Column("actor_user_id", USER_ID),
    sa.Column("actor_minted_by", sa.String(254)),
    sa.Column("face", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target_type", sa.String(32), nullable=False),
    sa.Column("target_id", sa.String(254), nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
)
sa.Index("ix_audit_events_account_id", audit_events.c.account_id, audit_events.c.id)
sa.Index("ix_audit_events_at", audit_events.c.at)
# An account's events about one target, or by one actor, newest first (the audit API's filters).
sa.Index(
    "ix_audit_events_account_target",
    audit_events.c.account_id,
    audit_events.c.target_id,
    audit_events.c.id,
)
sa.Index(
    "ix_audit_events_account_actor",
    audit_events.c.account_id,
    audit_events.c.actor_id,
    audit_events.c.id,
)

# Windowed counters (quotas, sign-in throttles), incremented atomically in the database so a
# limit holds across processes and hosts.
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("window", sa.String(32), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

# -- the network integration: what it keeps about advertisers beyond the account ---------------

advertiser_profiles = sa.Table(
    "advertiser_profiles",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("approval_status", sa.String(16), nullable=False),
    sa.CheckConstraint(
        "approval_status in ('Applied', 'Approved', 'Declined', 'Suspended', 'Archived')",
        name="approval_status",
    ),
)

# An advertiser's sites, in the network's order: the first is the default one.
advertiser_sites = sa.Table(
    "advertiser_sites",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("position", sa.SmallInteger, primary_key=True),
    sa.Column("id_from_network", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255)),
    sa.UniqueConstraint("account_id", "id_from_network"),
)

# -- signing in: sessions, password resets, second factors ------------------------------------

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # The cookie carries `<key>.<secret>`: the key finds the row, the secret's digest proves it.
    sa.Column("key", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column(
        "user_id",
        USER_ID,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("second_factor_done", sa.Boolean, nullable=False),
    _created(),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("user_agent", sa.String(256), nullable=False),
    # Opened through the account's identity provider: such a session holds without a password.
    sa.Column("single_sign_on", sa.Boolean, nullable=False, server_default=sa.false()),
)

password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        USER_ID,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime()),
    # Handed to an operator rather than mailed: using it proves nothing about the address.
    sa.Column("shown", sa.Boolean, nullable=False),
    sa.Column("delivered", sa.Boolean),
)

second_factors = sa.Table(
    "second_factors",
    metadata,
    sa.Column("user_id", USER_ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # The TOTP shared secret (RFC 6238) must be readable to check codes, so it is kept as is;
    # recovery codes are single-use secrets and are kept only as digests.
    sa.Column("totp_secret", sa.String(64), nullable=False),
    sa.Column("confirmed_at", UTCDateTime()),
    sa.Column("last_used_step", sa.BigInteger),
    _created(),
)

recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "user_id",
        USER_ID,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("used_at", UTCDateTime()),
)

# -- SCIM: the identity provider's own id for a user, kept per account ------------------------

scim_external_ids = sa.Table(
    "scim_external_ids",
    metadata,
    sa.Column(
        "account_id", ACCOUNT_ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", USER_ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.UniqueConstraint("account_id", "external_id"),
)

# -- the outbox: what leaves the process because of a change, written in its transaction -------

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(40), nullable=False),
    # Ids and addresses only: the secrets a mail carries are made when it is sent.
    sa.Column("payload", sa.JSON, nullable=False),
    _created(),
    sa.Column("available_at", UTCDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.String(500)),
    sa.Column("claimed_until", UTCDateTime()),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("sent_at", UTCDateTime()),
    sa.Column("failed_at", UTCDateTime()),
    # A lane's entries leave one at a time, in the order written (a webhook endpoint's events
    # of one account); then a webhook delivery's endpoint, and its receiver's last answer.
    sa.Column("lane", sa.String(60)),
    sa.Column(
        "endpoint_id",
        sa.String(40),
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
    ),
    sa.Column("last_status_code", sa.SmallInteger),
)
# What senders look for: entries by when due, and before one in its lane; endpoints' logs.
sa.Index("ix_outbox_available_at", outbox.c.available_at)
sa.Index("ix_outbox_lane", outbox.c.lane, outbox.c.id)
sa.Index("ix_outbox_endpoint_id", outbox.c.endpoint_id, outbox.c.id)

# -- idempotency keys: the first answer to a change, kept a day for the retries of it ----------

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # No foreign key: a row lives a day at most, and must not hold up deleting its account.
    sa.Column("account_id", ACCOUNT_ID, nullable=False),
    sa.Column("credential", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    # A digest of the request; the request itself is not kept.
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("holder", sa.String(32), nullable=False),
    _created(),
    # The answer, once the first call ended (NULL while it runs); it may carry secrets (an
    # invitation link), which is why rows are deleted a day after they were written.
    sa.Column("status", sa.SmallInteger),
    sa.Column("headers", sa.JSON),
    sa.Column("body", sa.LargeBinary),
    sa.UniqueConstraint("account_id", "credential", "key"),
)
# What pruning looks for: keys by age.
sa.Index("ix_idempotency_keys_created_at", idempotency_keys.c.created_at)

# The gateway's, single sign-on's, passkeys' and webhooks' tables live in modules of their own:
# importing them registers them on `metadata`, for migrations to see the whole schema here.
import tenantry.storage.webhook_tables  # noqa: E402, F401
from tenantry.storage import gateway_tables, passkey_tables, sso_tables  # noqa: E402, F401
