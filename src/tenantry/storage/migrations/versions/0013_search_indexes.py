"""search indexes: users by e-mail address and name, accounts by name, in any part of the text

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 19:00:00

PostgreSQL: trigram GIN indexes (`pg_trgm`, shipped with the server's contrib modules) on the
lowered columns, which serve `lower(column) LIKE '%text%'` and `LIKE 'text%'` as the
repositories write them, so a search finds its few users without reading every user.

SQLite: nothing. A search there reads the members of the one account (through the account's
index on memberships), which stays within a few milliseconds up to accounts of tens of
thousands of members; an FTS5 trigram table was measured and read about as many entries as
that for common fragments ("user", "@example"), so it would only have slowed every write down
(docs/performance.md, "Search at scale").

The indexes are named `search_*` (`tenantry.storage.migrations.SEARCH_INDEXES`): the drift
check between the tables and the migrated schema leaves them out, because SQLAlchemy's table
definitions cannot say "only on PostgreSQL".
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "search_users_email": "users USING gin (lower(email) gin_trgm_ops)",
    "search_users_name": "users USING gin (lower(name) gin_trgm_ops)",
    "search_accounts_name": "accounts USING gin (lower(name) gin_trgm_ops)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension: a database owner without superuser rights may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, target in _INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The extension stays: other objects of the database may have come to use it.
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
