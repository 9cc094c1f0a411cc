"""`tenantry audit export` and `tenantry audit prune`."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

from tenantry.domain.audit import AuditEvent
from tenantry.entrypoints.audit_export import COLUMNS
from tenantry.services.context import ServiceContext

from clitools import Cli
from factories import World

# What a spreadsheet would run, in the cells a person can write: labels and ids.
FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "\rCR"]


def seed(ctx: ServiceContext, account_id: str, labels: list[str], *, days_ago: int = 0) -> None:
    at = ctx.now() - timedelta(days=days_ago)
    with ctx.uow() as uow:
        uow.audit.add_many(
            [
                AuditEvent(
                    action="role.create",
                    target_type="role",
                    target_id=label,
                    account_id=account_id,
                    actor_kind="user",
                    actor_id="u1",
                    actor_label=label,
                    face="console",
                    request_id="req-1",
                    after={"display_name": label},
                    at=at,
                )
                for label in labels
            ]
        )


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_is_every_event_oldest_first_with_formulas_defused(
    cli: Cli, ctx: ServiceContext, world: World
) -> None:
    seed(ctx, world.a.id, FORMULAS)
    result = cli.ok("audit", "export", "--account", world.a.id)
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(f'"{c}"' for c in COLUMNS)
    exported = rows(result.stdout)
    assert {r["account_id"] for r in exported} == {world.a.id}
    assert [int(r["id"]) for r in exported] == sorted(int(r["id"]) for r in exported)
    seeded = [r for r in exported if r["action"] == "role.create"]
    assert [r["actor_label"] for r in seeded] == ["'" + f for f in FORMULAS]
    assert [r["target_id"] for r in seeded] == ["'" + f for f in FORMULAS]
    for row in exported:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    # JSON cells start with a brace and keep their text.
    assert json.loads(seeded[0]["after"]) == {"display_name": FORMULAS[0]}


def test_jsonl_export_since_a_moment_to_a_file(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    seed(ctx, world.a.id, ["old one"], days_ago=3)
    seed(ctx, world.a.id, ["new one", "=new two"])
    since = (ctx.now() - timedelta(days=1)).date().isoformat()
    target = tmp_path / "audit.jsonl"
    cli.ok("audit", "export", "--account", world.a.id, "--since", since, "--format", "jsonl",
           "--output", str(target))  # fmt: skip
    exported = [json.loads(line) for line in target.read_text().splitlines()]
    labels = [e["actor_label"] for e in exported if e["action"] == "role.create"]
    assert labels == ["new one", "=new two"]  # JSON is no spreadsheet: kept as written
    assert set(exported[0]) == set(COLUMNS)
    whole = cli.ok("audit", "export", "--account", world.a.id, "--format", "jsonl").stdout
    everything = [json.loads(line) for line in whole.splitlines()]
    assert [e["actor_label"] for e in everything if e["action"] == "role.create"] == [
        "old one",
        *labels,
    ]


def test_bad_options_and_unknown_accounts_are_refused(cli: Cli, world: World) -> None:
    for args, message in (
        (["--format", "xlsx"], "--format is csv or jsonl"),
        (["--since", "last week"], "--since: A date"),
    ):
        refused = cli("audit", "export", "--account", world.a.id, *args)
        assert refused.exit_code == 1
        assert message in refused.stderr
    missing = cli("audit", "export", "--account", "zzzzzzzz")
    assert missing.exit_code == 1
    assert missing.stdout == ""


def test_prune_deletes_past_the_retention(cli: Cli, ctx: ServiceContext, world: World) -> None:
    seed(ctx, world.a.id, ["a", "b", "c"], days_ago=100)
    refused = cli("audit", "prune")
    assert refused.exit_code == 1
    assert "TENANTRY_AUDIT_RETENTION_DAYS" in refused.stderr
    assert cli.json("audit", "prune", "--older-than-days", "90") == {"deleted": 3}
    assert "Deleted 0 audit events." in cli.ok("audit", "prune", "--older-than-days", "90").stdout
    remaining = rows(cli.ok("audit", "export", "--account", world.a.id).stdout)
    assert remaining
    assert all(r["action"] != "role.create" for r in remaining)
