"""Behind PgBouncer in transaction mode (how many processes share few PostgreSQL connections,
docs/scaling.md): a server whose database URL names PgBouncer serves every face, from several
callers at once, with far fewer server connections than clients.

Each transaction may run on another server connection, so nothing may outlive one: tenantry
keeps no session state (no SET, no session advisory lock, no LISTEN), and psycopg's prepared
statements, which PgBouncer before 1.21 cannot follow, are turned off by the URL's
`prepare_threshold=none`, as the README says to."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fault_support import (
    FIGURES,
    Server,
    exercise_every_face,
    fresh_database,
    rows,
    running,
    seed,
    server_env,
    services_on,
)
from mailserver import free_port
from pgcluster import SUPERUSER, PostgresCluster

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SERVER_CONNECTIONS = 4
CALLERS = 6
ROUNDS = 3  # each round repeats every statement: psycopg would prepare them from the 5th use


@contextmanager
def pgbouncer(cluster: PostgresCluster, database: str) -> Iterator[int]:
    """PgBouncer in transaction mode in front of `database`; its port."""
    if not Path(PGBOUNCER).exists():
        pytest.fail("pgbouncer is missing: apt-get install pgbouncer (.ci/run installs it)")
    home = cluster.root / "pgbouncer"
    home.mkdir()
    port = free_port()
    (home / "users.txt").write_text(f'"{SUPERUSER}" ""\n')
    (home / "pgbouncer.ini").write_text(
        f"""[databases]
{database} = host=127.0.0.1 port={cluster.port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {home}/users.txt
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 500
logfile = {home}/pgbouncer.log
"""
    )
    command = [PGBOUNCER, str(home / "pgbouncer.ini")]
    if cluster.run_as is not None:  # it refuses to run as root, as PostgreSQL does
        account = pwd.getpwnam(cluster.run_as)
        for path in (home, *home.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
        command = ["runuser", "-u", cluster.run_as, "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (home / "pgbouncer.log").read_text()
                assert time.monotonic() < deadline, "pgbouncer did not listen in 20 s"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def behind_pgbouncer(fault_cluster: PostgresCluster, tmp_path: Path) -> Iterator[Any]:
    with (
        fresh_database(fault_cluster, "bouncer") as url,
        services_on(url) as ctx,
        pgbouncer(fault_cluster, "bouncer") as port,
    ):
        tenancy = seed(ctx)
        ctx.uow.engine.dispose()  # type: ignore[attr-defined]  # counted below otherwise
        through = (
            f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/bouncer?prepare_threshold=none"
        )
        server = Server("bounced", server_env(through), tmp_path / "bounced.log")
        with running([server]):
            yield url, tenancy, server


def test_every_face_works_behind_pgbouncer_in_transaction_mode(behind_pgbouncer: Any) -> None:
    url, tenancy, server = behind_pgbouncer
    failures: list[BaseException] = []

    def caller(number: int) -> None:
        try:
            for round_ in range(ROUNDS):
                exercise_every_face(server.base, tenancy, f"pgb{number}r{round_}")
        except BaseException as error:  # reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert failures == []
    connections = rows(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity "
        "WHERE datname = 'bouncer' AND pid <> pg_backend_pid()",
    )[0].n
    FIGURES.notes["behind PgBouncer (transaction mode)"] = (
        f"{CALLERS} callers x {ROUNDS} rounds of every face through "
        f"{SERVER_CONNECTIONS} server connections: no error"
    )
    assert connections <= SERVER_CONNECTIONS
    assert not server.errors_logged(), server.errors_logged()
