"""Expand/contract: the previous release's code keeps working on a database that a newer release
has migrated, so that during a rolling upgrade old and new processes serve side by side.

The previous release is `PREVIOUS_RELEASE`, the last main before this work's first migration
(0008, idempotency keys); its source comes out of the repository's own history with
`git archive`, so the test needs nothing but a clone. The database is migrated to head by the
current code; the old code is served on it, beside a current server, and both make and read
each other's changes through every face. A migration that is not additive (a dropped or renamed
column, a NOT NULL without a default) breaks the old code's calls here."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fault_support import (
    BULK,
    Server,
    Tenancy,
    exercise_every_face,
    fresh_database,
    rows,
    running,
    seed,
    server_env,
    services_on,
)
from pgcluster import PostgresCluster

PREVIOUS_RELEASE = "4265201c59e1c54c9e8d18b25427698475575989"
REPOSITORY = Path(__file__).parents[2]
# How the old release is served: its app, without its migrations (the database is ahead of it).
OLD_SERVER = """
import sys

import tenantry
import uvicorn
from tenantry.app import Composition

print("serving", tenantry.__file__, flush=True)
uvicorn.run(Composition().asgi_app(), host=sys.argv[2], port=int(sys.argv[4]), log_level="warning")
"""


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The previous release's `src` directory, out of the repository's history."""
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", "--format=tar", PREVIOUS_RELEASE, "src"],
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, (
        f"the previous release {PREVIOUS_RELEASE} is not in this clone's history: "
        f"{archive.stderr.decode()}"
    )
    target = tmp_path_factory.mktemp("previous-release")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


@pytest.fixture
def old_and_new(
    fault_cluster: PostgresCluster, previous_release: Path, tmp_path: Path
) -> Iterator[tuple[Tenancy, Server, Server, str]]:
    with fresh_database(fault_cluster, "expand") as url, services_on(url) as ctx:
        tenancy = seed(ctx)  # by the current code, on the current schema
        env = server_env(url, bulk_daily_quota="1000")
        old_env = {**env, "PYTHONPATH": str(previous_release)}
        old = Server(
            "old", old_env, tmp_path / "old.log", program=[sys.executable, "-c", OLD_SERVER]
        )
        new = Server("new", env, tmp_path / "new.log")
        with running([new, old]):
            yield tenancy, old, new, url


def test_the_previous_release_serves_a_database_migrated_to_head(
    old_and_new: tuple[Tenancy, Server, Server, str], previous_release: Path
) -> None:
    tenancy, old, new, url = old_and_new
    assert f"serving {previous_release}" in old.log.read_text()
    head = rows(url, "SELECT version_num FROM alembic_version")[0].version_num
    old_versions = previous_release / "tenantry" / "storage" / "migrations" / "versions"
    assert not list(old_versions.glob(f"{head}*.py")), "the database is not ahead of the old code"

    made_by_old = exercise_every_face(old.base, tenancy, "old")
    made_by_new = exercise_every_face(new.base, tenancy, "new")
    # Each sees what the other made.
    for base, theirs in ((old.base, made_by_new), (new.base, made_by_old)):
        listed = httpx.get(
            f"{base}{BULK}", headers={"Authorization": f"Bearer {tenancy.api_token}"}, timeout=30
        ).json()["users"]
        assert theirs["bulk"] in {u["email"] for u in listed}
    for server in (old, new):
        assert not server.errors_logged(), server.errors_logged()


def test_the_previous_release_is_older_than_every_migration_of_this_work(
    previous_release: Path,
) -> None:
    """The release the test runs is the one before the migrations it is about (0008 on)."""
    versions = previous_release / "tenantry" / "storage" / "migrations" / "versions"
    names = sorted(p.name for p in versions.glob("0*.py"))
    assert names[-1].startswith("0007"), names
