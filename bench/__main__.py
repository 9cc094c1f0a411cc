"""`python -m bench`: seed a database, time tenantry against the raw driver, print the figures."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from time import perf_counter

from rich.console import Console
from rich.table import Table

from bench import bulk_rest, network_rest, search
from bench.database import engine_given, open_target
from bench.http import Memory, run_http, seed_http, serve_memory
from bench.ops import Figure, run_operations
from bench.seed import Seeded, seed
from tenantry.app import Composition
from tenantry.settings import Settings
from tenantry.storage.migrations import upgrade_database

QUICK = {"accounts": 50, "users": "5000", "seconds": 0.5}
DEFAULTS = {"accounts": 1_000, "users": "10000,100000,1000000", "seconds": 2.0}
FLAT = 1.5  # the most a figure may move between the smallest and the largest database


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Seed scratch databases and print tenantry's speed as a ratio of the raw "
        "database driver's, measured in the same run, in one table.",
    )
    parser.add_argument(
        "--engine",
        choices=("sqlite", "postgresql", "both"),
        help="default: both (sqlite only with --database-url sqlite:…)",
    )
    parser.add_argument(
        "--database-url",
        help="an empty database to fill (SQLAlchemy URL; one size only); by default a scratch "
        "SQLite file, or for postgresql a throwaway cluster the bench starts and removes",
    )
    parser.add_argument("--accounts", type=int, help="accounts, the host included (1000)")
    parser.add_argument(
        "--users",
        help="users, one membership each, comma-separated sizes (10000,100000,1000000)",
    )
    parser.add_argument("--seconds", type=float, help="time per operation and side (2)")
    parser.add_argument(
        "--no-http", action="store_true", help="skip the HTTP figures (wrk) and the memory"
    )
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="skip the search timings (a database of the largest size with one advertiser of"
        " a tenth of its users, or 100,000, searched through the services; not with"
        " --database-url)",
    )
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
    args.sizes = [int(n.replace("_", "")) for n in str(args.users).split(",") if n.strip()]
    args.engine = engine_given(parser, args.engine, args.database_url)
    if args.database_url and len(args.sizes) != 1:
        parser.error("--database-url fills one database: give one size with --users")
    engine = args.engine or ("sqlite" if args.quick else "both")
    args.engines = ["sqlite", "postgresql"] if engine == "both" else [engine]
    if any(e not in ("sqlite", "postgresql") for e in args.engines):
        parser.error(f"unsupported engine: {engine}")
    args.engine = args.engines[0]
    if args.accounts < 2 or any(n < max(args.accounts, 100) for n in args.sizes):
        parser.error("need at least 2 accounts, 100 users and as many users as accounts")
    if not args.no_http and shutil.which("wrk") is None:
        parser.error("the HTTP figures need wrk (apt-get install wrk; `make bench` does)")
    return args


@dataclass(slots=True)
class Run:
    engine: str
    server: str
    origin: str
    users: int
    accounts: int
    figures: list[Figure]
    memory: Memory | None
    seeding_seconds: float


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
        console = Console(width=140)  # logs and pipes: keep the table on one line per row
    load, speed = os.getloadavg()[0], machine_speed_ms()
    began = perf_counter()
    runs = []
    for engine in args.engines:
        for users in args.sizes:
            with console.status(f"{engine}, {users:,} users…"):
                run = measure(engine, args, users, rounds)
            runs.append(run)
            for f in run.figures:  # as it goes, in case the whole run is cut short
                print(
                    f"# {engine} {users} {f.name}: {f.tenantry:.1f} / {f.raw:.1f} = {f.ratio:.3f}",
                    file=sys.stderr,
                )
            if run.memory is not None:
                print(f"# {engine} {users} rss {run.memory.rss_mb:.0f} MB", file=sys.stderr)
    searched = []
    if not args.no_search and not args.database_url:
        for engine in args.engines:
            with console.status(f"{engine}, searches at {max(args.sizes):,} users…"):
                searched.append(measure_searches(engine, args, rounds=5 if args.quick else 21))
    print_header(console, runs, seconds=args.seconds, rounds=rounds, load=load, speed=speed)
    console.print(figures_table(runs, searched))
    for line in flatness(runs):
        console.print(line)
    console.print(
        f"seeding took {sum(r.seeding_seconds for r in runs):.0f} s, the whole run"
        f" {perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.1f} and the fixed"
        f" loop {machine_speed_ms():.1f} ms at the end."
    )


def measure(engine: str, args: argparse.Namespace, users: int, rounds: int) -> Run:
    with open_target(engine, args.database_url) as target:
        upgrade_database(target.url)
        composition = Composition(Settings(database_url=target.url))
        raw = target.connect_raw()
        began = perf_counter()
        try:
            server = raw.describe()
            seeded = seed(composition.context, raw, accounts=args.accounts, users=users)
            http_seeded = None if args.no_http else seed_http(composition.context, seeded.host_id)
            if engine == "postgresql":
                # As autovacuum soon would after a load: statistics (without them the planner
                # costs every statement blind), and the visibility map index-only scans need.
                raw.conn.execute("VACUUM ANALYZE")  # type: ignore[attr-defined]
            seeding_seconds = perf_counter() - began
            figures = run_operations(
                composition.context, raw, seeded, seconds=args.seconds, rounds=rounds
            )
        finally:
            raw.close()
            composition.dispose()
        memory = None
        if http_seeded is not None:
            http = run_http(target.url, http_seeded, seconds=args.seconds, rounds=rounds)
            figures += [Figure(f.name, "req/s", f.tenantry, f.raw) for f in http.figures]
            memory = serve_memory(target.url, http_seeded, args.seconds)
        figures += seeding_figures(seeded)
        return Run(
            engine,
            server,
            target.origin,
            seeded.users,
            len(seeded.advertiser_ids) + 1,
            figures,
            memory,
            seeding_seconds,
        )


def measure_searches(engine: str, args: argparse.Namespace, *, rounds: int) -> search.SearchTimes:
    """`bench.search` at the largest size: the accounts as the other figures have them, one
    more advertiser holding a tenth of the users (at most 100,000)."""
    users = max(args.sizes)
    large = min(100_000, users // 10)
    accounts = min(args.accounts, users - large)

    def report(line: str) -> None:
        print(f"# {engine} {line}", file=sys.stderr)

    return search.measure(
        engine, users=users, accounts=accounts, large=large, rounds=rounds, report=report
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
    console: Console, runs: list[Run], *, seconds: float, rounds: int, load: float, speed: float
) -> None:
    for engine, server, origin in dict.fromkeys((r.engine, r.server, r.origin) for r in runs):
        console.print(f"[bold]engine[/]   {engine}: {server}, {origin}")
    sizes = ", ".join(f"{r.users:,}" for r in runs if r.engine == runs[0].engine)
    console.print(
        f"[bold]sizes[/]    {runs[0].accounts:,} accounts (a host partner and advertisers),"
        f" users: {sizes}, one membership each; HTTP: one uvicorn worker, wrk with"
        " 16 connections"
    )
    console.print(
        f"[bold]timing[/]   {seconds:g} s per operation and side, median of {rounds} rounds,"
        " the sides taking turns"
    )
    console.print(f"[bold]python[/]   {interpreter()}")
    console.print(
        f"[bold]machine[/]  {os.cpu_count()} CPUs, load average {load:.1f} before the run"
        " (other work on the machine lowers both sides, not always alike); a fixed loop of"
        f" Python took {speed:.1f} ms (the same machine has been 1.5 to 2 times slower some"
        " hours than others with nothing else running: compare runs by it, ratios within one)"
    )


def machine_speed_ms() -> float:
    """How long a fixed pure-Python loop takes here now, the best of five: no figure of the
    run depends on it, but it tells a slow hour of the machine from a slower build."""
    best = float("inf")
    for _ in range(5):
        began = perf_counter()
        sum(n * n for n in range(300_000))
        best = min(best, perf_counter() - began)
    return best * 1000


def interpreter() -> str:
    """Version and build: which interpreter runs matters (a PGO/LTO build is faster)."""
    configure = sysconfig.get_config_var("CONFIG_ARGS") or ""
    flags = " ".join(f for f in ("--enable-optimizations", "--with-lto") if f in configure)
    return (
        f"{platform.python_implementation()} {platform.python_version()}"
        f" ({platform.python_compiler()}, built {' '.join(platform.python_build()[1].split())};"
        f" PGO/LTO configure flags: {flags or 'none'})"
    )


def figures_table(runs: list[Run], searched: list[search.SearchTimes]) -> Table:
    table = Table(
        title="tenantry against the raw driver, same database, same run",
        caption="ratio = tenantry / raw: 1 is as fast as the raw driver, 0.1 ten times slower",
    )
    for column in ("engine", "users", "figure", "unit", "tenantry", "raw", "ratio"):
        justify = "right" if column in ("users", "tenantry", "raw", "ratio") else "left"
        table.add_column(column, justify=justify, no_wrap=column == "figure")
    for run in runs:
        for f in run.figures:
            table.add_row(
                run.engine,
                f"{run.users:,}",
                f.name,
                f.unit,
                f"{f.tenantry:,.0f}",
                f"{f.raw:,.0f}",
                f"{f.ratio:.3f}",
            )
        if run.memory is not None:
            table.add_row(
                run.engine,
                f"{run.users:,}",
                "resident memory of one worker (tenantry serve), after load",
                "MB",
                f"{run.memory.rss_mb:,.0f} (peak {run.memory.peak_rss_mb:,.0f})",
                "",
                "",
            )
        table.add_section()
    for times in searched:
        for label, median, _ in times.times:
            met = "met" if median <= search.GOAL_MS else "missed"
            table.add_row(
                times.engine,
                f"{times.users:,}",
                f"search: {label}",
                "ms (median)",
                f"{median:,.1f}",
                "",
                f"≤ {search.GOAL_MS:.0f}: {met}",
            )
        table.add_section()
    return table


def flatness(runs: list[Run]) -> list[str]:
    """How much each tenantry figure moves between the smallest and the largest database."""
    lines = []
    for engine in dict.fromkeys(r.engine for r in runs):
        mine = [r for r in runs if r.engine == engine]
        if len(mine) < 2:
            continue
        for number, figure in enumerate(mine[0].figures):
            if figure.name.startswith("seeding"):
                continue
            rates = [r.figures[number].tenantry for r in mine if len(r.figures) > number]
            spread = max(rates) / min(rates) if min(rates) else float("inf")
            verdict = "flat" if spread <= FLAT else "NOT flat"
            lines.append(
                f"{engine}: {figure.name}: largest / smallest across"
                f" {', '.join(f'{r.users:,}' for r in mine)} users = {spread:.2f} ({verdict})"
            )
    return lines


if __name__ == "__main__":
    main()
