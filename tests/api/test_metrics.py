"""`GET /metrics`: off unless turned on or protected by a token; requests by face, route
template and status with latencies; the core's refusals; the outbox backlog; counts of every
process of a server added up when they share a multiprocess folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tenantry.domain.errors import Throttled, Unauthenticated
from tenantry.mail import SmtpMailer
from tenantry.services import auth, credentials, quotas
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, make_member
from httpclient import HttpClient

METRICS_TOKEN = "scrape-me-" + "s" * 24


def scrape(
    client: HttpClient, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample /metrics answers, by name and labels."""
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_off_unless_turned_on(client: HttpClient, ctx: ServiceContext) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics").json() == client.get("/no-such-path").json()
    ctx.settings.metrics = True
    assert client.get("/metrics").status_code == 200


def test_a_token_setting_asks_for_the_token(client: HttpClient, ctx: ServiceContext) -> None:
    ctx.settings.metrics_token = SecretStr(METRICS_TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
    ctx.settings.metrics = True  # still the token's to open
    assert client.get("/metrics").status_code == 401
    assert scrape(client, Authorization=f"Bearer {METRICS_TOKEN}")


def test_requests_by_face_route_template_and_status_without_ids(
    client: HttpClient, ctx: ServiceContext, world: World
) -> None:
    ctx.settings.metrics = True
    before = scrape(client)
    audit_page = f"/hub/accounts/{world.a.id}/audit"
    client.get(audit_page)
    client.request("HEAD", "/healthz")
    client.get(f"/api/2019-05-01/{world.host.id}/advertisers/{world.a.id}.json")
    client.get(f'/scim/v2/Users?filter=userName eq "{world.a_admin.email}"')
    client.request("BREW", "/healthz")
    answer = client.get("/metrics")
    after = scrape(client)

    def grew(face: str, route: str, method: str, status: str) -> float:
        labels = {"face": face, "route": route, "method": method, "status": status}
        name = "tenantry_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("console", "/hub/accounts/{account_id}/audit", "GET", "303") == 1
    assert grew("server", "/healthz", "HEAD", "200") == 1
    network = "/api/{version}/{network_id}/advertisers/{advertiser_id}"
    assert (
        sum(grew("network_rest", route, "GET", "401") for route in (network, network + ".json"))
        == 1
    )
    assert grew("scim", "/scim/v2/{rest}", "GET", "401") == 1  # SCIM routes by itself
    assert grew("server", "/healthz", "other", "405") == 1
    latency = "tenantry_http_request_duration_seconds_count"
    labels = {"face": "console", "route": "/hub/accounts/{account_id}/audit", "method": "GET"}
    assert value(after, latency, **labels) - value(before, latency, **labels) == 1
    for secret in (world.a.id, world.host.id, world.a_admin.email, world.host_admin.email):
        assert secret not in answer.text
    assert ("tenantry_database_connections_in_use", ()) in after
    assert value(after, "tenantry_database_up") == 1


def test_the_cores_refusals_are_counted(
    client: HttpClient, ctx: ServiceContext, world: World
) -> None:
    ctx.settings.metrics = True
    before = scrape(client)
    refused = client.post(
        "/clients/token",
        data={"client_id": "nobody", "client_secret": "guess", "grant_type": "client_credentials"},
    )
    assert refused.status_code == 401
    with pytest.raises(Unauthenticated):
        auth.sign_in(ctx, "nobody@example.com", "not-the-password", auth.Origin("192.0.2.7"))
    ctx.settings.member_batch_calls_per_day = 1
    _, secret = credentials.create_api_account(ctx, OPERATOR, world.a.id, "quotaclient")
    issued = credentials.issue_access_token(ctx, "quotaclient", secret)
    caller = credentials.authenticate(ctx, issued.token, face="test")
    quotas.admit_batch_call(ctx, caller)
    with pytest.raises(Throttled):
        quotas.admit_batch_call(ctx, caller)
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("tenantry_token_grant_failures_total", reason="invalid_credentials") == 1
    assert grew("tenantry_sign_in_failures_total", reason="unknown_user") == 1
    assert grew("tenantry_member_batch_quota_refusals_total") == 1


def test_the_outbox_backlog_by_kind(client: HttpClient, ctx: ServiceContext, world: World) -> None:
    ctx.settings.metrics = True
    ctx.settings.smtp_host = "127.0.0.1"
    ctx.mailer = SmtpMailer(ctx.settings)  # never reached: nothing is sent here
    for _ in range(3):
        make_member(ctx, world.a, role="view", active=False)
    samples = scrape(client)
    entries = "tenantry_outbox_entries"
    assert value(samples, entries, kind="mail.invitation", status="pending") == 3
    assert value(samples, entries, kind="mail.invitation", status="failed") == 0
    assert (entries, (("kind", "mail.password_reset"), ("status", "pending"))) in samples


# Run in processes of their own: each counts refused token grants in the shared folder.
GRANTS = textwrap.dedent(
    """
    import sys, httpx, anyio
    from tenantry.app import Composition
    from tenantry.settings import Settings

    async def main() -> None:
        settings = Settings(database_url=sys.argv[1], metrics=True, log_level="ERROR")
        composition = Composition(settings)
        app = composition.asgi_app()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(int(sys.argv[2])):
                await client.post("/clients/token", data={"client_id": "x", "client_secret": "y",
                                                          "grant_type": "client_credentials"})
            if sys.argv[3] == "scrape":
                print((await client.get("/metrics")).text)

    anyio.run(main)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_process_counts_into_one_folder(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}

    def run(grants: int, then: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", GRANTS, database_url, str(grants), then],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout

    run(2, "exit")
    text = run(3, "scrape")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert value(samples, "tenantry_token_grant_failures_total", reason="invalid_credentials") == 5
    grants = {"face": "token", "route": "/clients/token", "method": "POST", "status": "401"}
    assert value(samples, "tenantry_http_requests_total", **grants) == 5


def test_connections_in_use_follow_the_pool(ctx: ServiceContext) -> None:
    def in_use() -> float:
        found = REGISTRY.get_sample_value("tenantry_database_connections_in_use")
        assert found is not None
        return found

    before = in_use()
    with ctx.uow(), ctx.uow(readonly=True):
        assert in_use() == before + 2
    assert in_use() == before
