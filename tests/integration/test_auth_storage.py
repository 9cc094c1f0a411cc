"""The sign-in tables on both engines: single use holds in the statements themselves, so two
requests racing with one code or link cannot both win."""

from __future__ import annotations

from datetime import timedelta

from tenantry.domain.auth import PasswordReset, SecondFactor, Session, recovery_code_hash
from tenantry.services.context import ServiceContext

from factories import World


def _session(user_id: str, key: str, ctx: ServiceContext, **fields: object) -> Session:
    now = ctx.now()
    values: dict[str, object] = {
        "id": None,
        "key": key,
        "secret_hash": "0" * 64,
        "user_id": user_id,
        "csrf_token": "c" * 43,
        "second_factor_done": True,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + timedelta(hours=1),
        "source": "127.0.0.1",
        "user_agent": "test",
    }
    values.update(fields)
    return Session(**values)  # type: ignore[arg-type]


def test_sessions_round_trip_and_end(ctx: ServiceContext, world: World) -> None:
    user_id = world.a_admin.id
    now = ctx.now()
    with ctx.uow() as uow:
        added = uow.auth.add_session(_session(user_id, "k1" * 16, ctx))
        uow.auth.add_session(_session(user_id, "k2" * 16, ctx))
        uow.auth.add_session(_session(user_id, "k3" * 16, ctx, expires_at=now - timedelta(days=1)))
    assert added.id is not None
    with ctx.uow() as uow:
        found = uow.auth.find_session("k1" * 16)
        assert found == added
        assert uow.auth.find_session("nope") is None
        uow.auth.touch_session("k1" * 16, now + timedelta(minutes=5))
        assert uow.auth.revoke_session("k1" * 16, now) is True
        assert uow.auth.revoke_session("k1" * 16, now) is False  # already ended
        uow.auth.touch_session("k1" * 16, now + timedelta(minutes=9))  # no effect once ended
        assert uow.auth.revoke_sessions(user_id, now) == 2
        assert uow.auth.delete_sessions_expired_before(now - timedelta(hours=1)) == 1
    with ctx.uow(readonly=True) as uow:
        ended = uow.auth.find_session("k1" * 16)
        assert ended is not None
        assert ended.revoked_at == now
        assert ended.last_seen_at == now + timedelta(minutes=5)
        assert uow.auth.find_session("k3" * 16) is None


def test_a_reset_is_used_once(ctx: ServiceContext, world: World) -> None:
    user_id = world.a_admin.id
    now = ctx.now()
    with ctx.uow() as uow:
        first = uow.auth.add_password_reset(
            PasswordReset(None, user_id, "a" * 64, now, now + timedelta(hours=1))
        )
        second = uow.auth.add_password_reset(
            PasswordReset(None, user_id, "b" * 64, now, now + timedelta(hours=1))
        )
        uow.auth.set_password_reset_delivered("a" * 64, False)
    assert first.id is not None
    assert second.id is not None
    with ctx.uow() as uow:
        assert uow.auth.use_password_reset(first.id, now) is True
        assert uow.auth.use_password_reset(first.id, now) is False
        assert uow.auth.close_password_resets(user_id, now) == 1  # the second one
        assert uow.auth.use_password_reset(second.id, now) is False
    with ctx.uow(readonly=True) as uow:
        found = uow.auth.find_password_reset("a" * 64)
        assert found is not None
        assert (found.used_at, found.delivered) == (now, False)


def test_a_totp_step_and_a_recovery_code_are_used_once(ctx: ServiceContext, world: World) -> None:
    user_id = world.a_admin.id
    now = ctx.now()
    factor = SecondFactor(user_id, "JBSWY3DPEHPK3PXP", None, None, now)
    hashes = [recovery_code_hash(user_id, f"code-{n}") for n in range(3)]
    with ctx.uow() as uow:
        uow.auth.replace_second_factor(factor)
        uow.auth.replace_second_factor(factor)  # replacing keeps one row per user
        uow.auth.confirm_second_factor(user_id, now)
        assert uow.auth.advance_totp_step(user_id, 100) is True
        assert uow.auth.advance_totp_step(user_id, 100) is False  # a replay
        assert uow.auth.advance_totp_step(user_id, 99) is False  # an older code
        assert uow.auth.advance_totp_step(user_id, 101) is True
        uow.auth.replace_recovery_codes(user_id, hashes)
        assert uow.auth.use_recovery_code(user_id, hashes[1], now) is True
        assert uow.auth.use_recovery_code(user_id, hashes[1], now) is False
        assert uow.auth.use_recovery_code(world.b_admin.id, hashes[0], now) is False
        assert uow.auth.unused_recovery_codes(user_id) == 2
    with ctx.uow(readonly=True) as uow:
        stored = uow.auth.find_second_factor(user_id)
    assert stored is not None
    assert (stored.confirmed_at, stored.last_used_step) == (now, 101)
    with ctx.uow() as uow:
        uow.auth.delete_second_factor(user_id)
        assert uow.auth.find_second_factor(user_id) is None
        assert uow.auth.unused_recovery_codes(user_id) == 0
