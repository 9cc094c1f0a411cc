"""What the core counts for operators, served with the rest at `GET /metrics`
(`entrypoints.http.metrics`) in the Prometheus text format.

The counts live in the process, or, when `PROMETHEUS_MULTIPROC_DIR` names a folder before the
process starts, in files there that `/metrics` adds up over every process of the server. Labels
take values from short fixed lists (reasons, kinds) and never an id, an address or a name.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

QUOTA_REFUSALS = Counter(
    "tenantry_member_batch_quota_refusals",
    "Calls of the bulk user API refused because their account's daily quota was spent.",
)
SIGN_IN_FAILURES = Counter(
    "tenantry_sign_in_failures",
    "Failed console sign-ins: wrong password or code, unknown or locked out, throttled.",
    ["reason"],
)
TOKEN_GRANT_FAILURES = Counter(
    "tenantry_token_grant_failures",
    "Client-credential grants refused: invalid credentials, deactivated account, throttled.",
    ["reason"],
)
OUTBOX_DELIVERY_FAILURES = Counter(
    "tenantry_outbox_delivery_failures",
    "Outbox entries not delivered on a try, by kind, and whether they will be retried.",
    ["kind", "outcome"],
)
CONNECTIONS_IN_USE = Gauge(
    "tenantry_database_connections_in_use",
    "Database connections checked out of the pool, in all of the server's processes.",
    multiprocess_mode="livesum",
)
