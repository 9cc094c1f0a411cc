"""A throwaway PostgreSQL cluster for the test session.

The tests start their own cluster instead of relying on a server being configured: it lives in
a temporary directory, listens on a free loopback port and trusts every local connection.
Durability is switched off because the data dies with the session anyway.

PostgreSQL refuses to run as root, so when the tests run as root (CI containers) the server
programs run as an unprivileged user: ``postgres`` when the Debian package created it, otherwise
a ``tenantry-test`` system user created on the fly.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"  # the database role the tests connect as
PACKAGED_RUN_AS = "postgres"  # the system user Debian's postgresql package creates
FALLBACK_RUN_AS = "tenantry-test"
START_ATTEMPTS = 3  # a free port can be taken by another process before the server binds it
SHM_MIN_FREE_BYTES = 1 << 30  # room for a cluster per test worker, and then some


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server programs (initdb, pg_ctl) are not installed."""


def find_bindir() -> Path:
    """Return the directory holding ``initdb`` and ``pg_ctl``: on PATH, else Debian's layout."""
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        bindir = Path(on_path).resolve().parent
        if (bindir / "initdb").exists():
            return bindir
        if shutil.which("initdb") is not None:
            return Path(on_path).parent
    # Debian installs the server outside PATH; prefer the newest major version.
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path)],
        reverse=True,
    )
    for candidate in candidates:
        bindir = Path(candidate)
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise PostgresUnavailable(
        "PostgreSQL server programs (initdb, pg_ctl) were found neither on PATH nor in "
        "/usr/lib/postgresql/*/bin"
    )


def _unprivileged_user() -> str:
    for name in (PACKAGED_RUN_AS, FALLBACK_RUN_AS):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    # Parallel test workers may race to create the user; whoever loses finds it afterwards.
    subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            FALLBACK_RUN_AS,
        ],
        check=False,
        capture_output=True,
    )
    pwd.getpwnam(FALLBACK_RUN_AS)
    return FALLBACK_RUN_AS


def _cluster_parent_dir() -> str | None:
    # On disk every CREATE DATABASE costs ~200 ms of file-system work even with fsync off; in
    # memory it costs ~10 ms. Docker's default /dev/shm holds only 64 MB, hence the check.
    shm = "/dev/shm"  # noqa: S108 - a private mkdtemp() directory is made inside it
    try:
        stats = os.statvfs(shm)
    except OSError:
        return None
    if os.access(shm, os.W_OK) and stats.f_bavail * stats.f_frsize >= SHM_MIN_FREE_BYTES:
        return shm
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    """A running cluster; ``start`` it, ``stop`` it, ask it for database URLs."""

    bindir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    @classmethod
    def start(cls) -> PostgresCluster:
        """Create and start a cluster; raises PostgresUnavailable if PostgreSQL is missing."""
        bindir = find_bindir()
        run_as = _unprivileged_user() if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="tenantry-pg-", dir=_cluster_parent_dir()))
        cluster = cls(bindir=bindir, root=root, port=0, run_as=run_as)
        try:
            if run_as is not None:
                account = pwd.getpwnam(run_as)
                os.chown(root, account.pw_uid, account.pw_gid)
            cluster._initdb()
            cluster._start_server()
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cluster

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def halt(self) -> None:
        """Stop the server as an operator's restart does (``-m fast``: open sessions are ended,
        the files stay), for tests of what the application does while it is down."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a halted server again on the same port."""
        self._run("pg_ctl", *self._start_arguments())

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL of a database in this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A plain psycopg connection in autocommit mode (needed for CREATE/DROP DATABASE)."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True
        )

    def create_database(self, name: str, template: str | None = None) -> None:
        """Create an empty database, or a copy of ``template``."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with self.connect() as conn:
            if template is not None:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                if conn.info.server_version >= 150000:
                    # For a small template, copying files beats the default WAL_LOG strategy
                    # (about 2x when measured), and its durability does not matter here.
                    statement += sql.SQL(" STRATEGY FILE_COPY")
            conn.execute(statement)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def freeze_template(self, name: str) -> None:
        """Make ``name`` a template: disconnect its sessions and refuse new ones.

        CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template, and a
        pooled engine left over from the migrations would be.
        """
        with self.connect() as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true").format(
                    sql.Identifier(name)
                )
            )
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def _start_server(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = _free_port()
            try:
                self._run("pg_ctl", *self._start_arguments())
            except RuntimeError as exc:
                if attempt == START_ATTEMPTS:
                    log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
                    raise RuntimeError(f"{exc}\n--- server log ---\n{log}") from None
            else:
                return

    def _start_arguments(self) -> list[str]:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -F"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        datadir, log = str(self.datadir), str(self.logfile)
        return ["-D", datadir, "-l", log, "-o", options, "-w", "-t", "60", "start"]

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        # The server user may not be allowed into the caller's working directory.
        result = subprocess.run(command, cwd=self.root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
