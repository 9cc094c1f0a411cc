"""Throttle settings: limits per address typed from one network address took over from the
limits per address typed; a deployment that set the earlier names keeps its values."""

from __future__ import annotations

import pytest

from tenantry.settings import Settings


@pytest.mark.parametrize(
    ("earlier", "current", "field"),
    [
        (
            "TENANTRY_SIGN_IN_FAILURES_PER_ACCOUNT",
            "TENANTRY_SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS",
            "sign_in_failures_per_account_and_address",
        ),
        (
            "TENANTRY_RESET_REQUESTS_PER_ACCOUNT",
            "TENANTRY_RESET_REQUESTS_PER_ACCOUNT_AND_ADDRESS",
            "reset_requests_per_account_and_address",
        ),
    ],
)
def test_the_earlier_name_still_sets_the_limit_and_the_current_one_wins(
    monkeypatch: pytest.MonkeyPatch, earlier: str, current: str, field: str
) -> None:
    monkeypatch.delenv(current, raising=False)
    monkeypatch.setenv(earlier, "2")
    assert getattr(Settings(), field) == 2
    monkeypatch.setenv(current, "4")
    assert getattr(Settings(), field) == 4
    assert getattr(Settings(**{field: 6}), field) == 6  # by name, as tests and code set it


def test_the_ceilings_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANTRY_TOKEN_FAILURE_CEILING_PER_CLIENT", "30")
    monkeypatch.setenv("TENANTRY_SIGN_IN_FAILURE_CEILING_PER_ACCOUNT", "40")
    monkeypatch.setenv("TENANTRY_RESET_REQUEST_CEILING_PER_ACCOUNT", "5")
    settings = Settings()
    assert settings.token_failure_ceiling_per_client == 30
    assert settings.sign_in_failure_ceiling_per_account == 40
    assert settings.reset_request_ceiling_per_account == 5
