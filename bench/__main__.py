"""`python -m bench`: seed a database, time tenantry against the raw driver, print the figures."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import sysconfig
from time import perf_counter

from rich.console import Console
from rich.table import Table

from bench import bulk_rest, network_rest
from bench.database import Target, engine_of, open_target
from bench.ops import Figure, run_operations
from bench.seed import Seeded, seed
from tenantry.app import Composition
from tenantry.settings import Settings
from tenantry.storage.migrations import upgrade_database

QUICK = {"accounts": 50, "users": 5_000, "seconds": 0.5}
DEFAULTS = {"accounts": 1_000, "users": 100_000, "seconds": 2.0}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Seed a scratch database and print tenantry's speed as a ratio of the raw "
        "database driver's, measured in the same run.",
    )
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), help="default: sqlite")
    parser.add_argument(
        "--database-url",
        help="an empty database to fill (SQLAlchemy URL); by default a scratch SQLite file, or "
        "for postgresql a throwaway cluster the bench starts and removes",
    )
    parser.add_argument("--accounts", type=int, help="accounts, the host included (1000)")
    parser.add_argument("--users", type=int, help="users, one membership each (100000; up to 1M)")
    parser.add_argument("--seconds", type=float, help="time per operation and side (2)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 50 accounts, 5000 users, 0.5 s"
    )
    parser.add_argument(
        "--bulk-rest",
        action="store_true",
        help="instead: the bulk user-management REST API over HTTP (see bench/bulk_rest.py)",
    )
    parser.add_argument(
        "--network-rest",
        action="store_true",
        help="instead: a network replacing its 2,000 users (see bench/network_rest.py)",
    )
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.database_url:
        url_engine = engine_of(args.database_url)
        if args.engine not in (None, url_engine):
            parser.error(f"--engine {args.engine} does not match the URL's {url_engine}")
        args.engine = url_engine
    args.engine = args.engine or "sqlite"
    if args.engine not in ("sqlite", "postgresql"):
        parser.error(f"unsupported engine: {args.engine}")
    if args.accounts < 2 or args.users < max(args.accounts, 100):
        parser.error("need at least 2 accounts, 100 users and as many users as accounts")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.bulk_rest:
        bulk_rest.run(args.engine, args.database_url, quick=args.quick)
        return
    if args.network_rest:
        network_rest.run(args.engine, args.database_url, quick=args.quick)
        return
    rounds = 3 if args.quick else 5
    console = Console()
    if not console.is_terminal:
        console = Console(width=100)  # logs and pipes: keep the table on one line per row
    load = os.getloadavg()[0]
    began = perf_counter()
    with open_target(args.engine, args.database_url) as target:
        upgrade_database(target.url)
        composition = Composition(Settings(database_url=target.url))
        raw = target.connect_raw()
        try:
            server = raw.describe()
            with console.status(f"seeding {args.users:,} users…"):
                seeded = seed(composition.context, raw, accounts=args.accounts, users=args.users)
            seeding_seconds = perf_counter() - began
            with console.status("timing the operations…"):
                figures = run_operations(
                    composition.context, raw, seeded, seconds=args.seconds, rounds=rounds
                )
        finally:
            raw.close()
            composition.dispose()
    print_header(console, target, server, seeded, seconds=args.seconds, rounds=rounds, load=load)
    console.print(figures_table(figures + seeding_figures(seeded)))
    console.print(
        f"seeding took {seeding_seconds:.1f} s, the whole run {perf_counter() - began:.1f} s."
    )


def seeding_figures(seeded: Seeded) -> list[Figure]:
    raw = seeded.raw.per_second
    storage = f"seeding, storage layer ({seeded.batch:,} users a transaction)"
    service = f"seeding, services ({seeded.service.users:,} add_member calls)"
    return [
        Figure(storage, "users/s", seeded.storage.per_second, raw),
        Figure(service, "users/s", seeded.service.per_second, raw),
    ]


def print_header(
    console: Console,
    target: Target,
    server: str,
    seeded: Seeded,
    *,
    seconds: float,
    rounds: int,
    load: float,
) -> None:
    console.print(f"[bold]engine[/]   {target.engine}: {server}, {target.origin}")
    console.print(
        f"[bold]sizes[/]    {len(seeded.advertiser_ids) + 1:,} accounts (a host partner and"
        f" {len(seeded.advertiser_ids):,} advertisers), {seeded.users:,} users"
        " with one membership each"
    )
    console.print(
        f"[bold]timing[/]   {seconds:g} s per operation and side, median of {rounds} rounds"
    )
    console.print(f"[bold]python[/]   {interpreter()}")
    console.print(
        f"[bold]machine[/]  {os.cpu_count()} CPUs, load average {load:.1f} before the run"
        " (other work on the machine lowers both sides, not always alike)"
    )


def interpreter() -> str:
    """Version and build: which interpreter runs matters (a PGO/LTO build is faster)."""
    configure = sysconfig.get_config_var("CONFIG_ARGS") or ""
    flags = " ".join(f for f in ("--enable-optimizations", "--with-lto") if f in configure)
    return (
        f"{platform.python_implementation()} {platform.python_version()}"
        f" ({platform.python_compiler()}, built {' '.join(platform.python_build()[1].split())};"
        f" PGO/LTO configure flags: {flags or 'none'}) in {sys.base_prefix}"
    )


def figures_table(figures: list[Figure]) -> Table:
    table = Table(
        title="tenantry against the raw driver, same database, same run",
        caption="ratio = tenantry / raw: 1 is as fast as the raw driver, 0.1 ten times slower",
    )
    table.add_column("figure", no_wrap=True)
    table.add_column("unit")
    table.add_column("tenantry", justify="right")
    table.add_column("raw", justify="right")
    table.add_column("ratio", justify="right")
    for f in figures:
        table.add_row(f.name, f.unit, f"{f.tenantry:,.0f}", f"{f.raw:,.0f}", f"{f.ratio:.3f}")
    return table


if __name__ == "__main__":
    main()
