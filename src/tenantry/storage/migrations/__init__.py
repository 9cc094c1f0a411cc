"""Alembic migrations, the only source of the schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent

# What the engines make each their own way for searching text (PostgreSQL's trigram indexes,
# migration 0013, of which the users' went in 0018; the table of member text, migrations 0017
# and 0018): the table definitions cannot describe them, so comparing those with a migrated
# schema leaves them out.
SEARCH_INDEXES = frozenset({"search_users_email", "search_users_name", "search_accounts_name"})
SEARCH_TABLES = frozenset({"search_member_text"})


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's `include_name` hook: everything but the engine-specific search objects."""
    if type_ == "table":
        return name not in SEARCH_TABLES
    return not (type_ == "index" and name in SEARCH_INDEXES)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (head by default)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from tenantry.storage.engine import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
