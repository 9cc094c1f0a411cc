"""An account's ingress domain through the services, on every engine."""

from __future__ import annotations

import pytest

from tenantry.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenantry.domain.pixels import DomainStatus
from tenantry.services import gateway
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, as_user, make_member


def actions(ctx: ServiceContext, account_id: str) -> list[str]:
    with ctx.uow(readonly=True) as uow:
        events = uow.audit.query(account_ids=[account_id])
    return [e.action for e in reversed(events) if e.action.startswith("ingress_domain.")]


def test_no_ingress_domain_until_one_is_set(ctx: ServiceContext, world: World) -> None:
    assert gateway.get_ingress_domain(ctx, as_user(world.a_admin), world.a.id) is None


def test_setting_the_ingress_domain(ctx: ServiceContext, world: World) -> None:
    admin = as_user(world.a_admin)
    domain = gateway.upsert_ingress_domain(
        ctx, admin, world.a.id, ingress=" CAPIG.Shop.Example ", target_domain="shop.example"
    )
    assert domain.account_id == world.a.id
    assert domain.account_name == "Advertiser A"
    assert domain.ingress == "capig.shop.example"
    assert domain.tenant_1p_domain == "shop.example"
    # Nothing looks DNS up yet: a chosen domain waits for verification.
    assert not domain.cname_resolve_success
    assert domain.tenant_1p_domain_status is DomainStatus.PENDING_VERIFICATION
    read = gateway.get_ingress_domain(ctx, admin, world.a.id)
    assert read is not None
    assert (read.id, read.ingress, read.account_name) == (domain.id, domain.ingress, "Advertiser A")

    same = gateway.upsert_ingress_domain(
        ctx, admin, world.a.id, ingress="capig.shop.example", target_domain="shop.example"
    )
    assert same.id == domain.id
    moved = gateway.upsert_ingress_domain(
        ctx, admin, world.a.id, ingress="events.shop.example", target_domain=""
    )
    assert moved.id == domain.id
    assert moved.tenant_1p_domain is None
    assert moved.tenant_1p_domain_status is DomainStatus.NOT_SELECTED
    assert actions(ctx, world.a.id) == ["ingress_domain.create", "ingress_domain.update"]


def test_verified_once_the_cname_resolves(ctx: ServiceContext, world: World) -> None:
    domain = gateway.upsert_ingress_domain(
        ctx, OPERATOR, world.a.id, ingress="capig.shop.example", target_domain="shop.example"
    )
    domain.cname_resolve_success = True
    assert domain.tenant_1p_domain_status is DomainStatus.VERIFIED
    with ctx.uow() as uow:
        uow.gateway.update_ingress_domain(domain)
    changed = gateway.upsert_ingress_domain(
        ctx, OPERATOR, world.a.id, ingress="capig2.shop.example", target_domain="shop.example"
    )
    assert not changed.cname_resolve_success  # a new name is verified again


def test_an_ingress_host_serves_one_account(ctx: ServiceContext, world: World) -> None:
    gateway.upsert_ingress_domain(
        ctx, OPERATOR, world.a.id, ingress="capig.shop.example", target_domain="shop.example"
    )
    with pytest.raises(Conflict) as caught:
        gateway.upsert_ingress_domain(
            ctx, OPERATOR, world.b.id, ingress="capig.shop.example", target_domain="b.example"
        )
    assert caught.value.field == "ingress"
    assert gateway.get_ingress_domain(ctx, OPERATOR, world.b.id) is None


@pytest.mark.parametrize(
    ("ingress", "target", "field"),
    [
        ("", "shop.example", "ingress"),
        ("no_underscores.example", "shop.example", "ingress"),
        ("capig.shop.example", "shop", "targetDomain"),
        ("capig.shop.example", "192.168.1.1", "targetDomain"),
        ("capig.shop.example", f"{'a' * 64}.example", "targetDomain"),
    ],
)
def test_bad_names_are_refused(
    ctx: ServiceContext, world: World, ingress: str, target: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        gateway.upsert_ingress_domain(
            ctx, OPERATOR, world.a.id, ingress=ingress, target_domain=target
        )
    assert caught.value.field == field


def test_who_may_read_and_set_it(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(Forbidden):
        gateway.get_ingress_domain(ctx, as_user(world.b_admin), world.a.id)
    with pytest.raises(Forbidden):
        gateway.upsert_ingress_domain(
            ctx, as_user(world.b_admin), world.a.id, ingress="x.example", target_domain=""
        )
    # Managing pixels is not enough: the domain is one of the account's settings.
    manager = as_user(make_member(ctx, world.a, role="manage"))
    with pytest.raises(Forbidden):
        gateway.upsert_ingress_domain(
            ctx, manager, world.a.id, ingress="x.example", target_domain=""
        )
    assert gateway.get_ingress_domain(ctx, manager, world.a.id) is None
    set_by_partner = gateway.upsert_ingress_domain(
        ctx, as_user(world.host_admin), world.a.id, ingress="x.example", target_domain=""
    )
    assert set_by_partner.account_id == world.a.id
    with pytest.raises(NotFound):
        gateway.get_ingress_domain(ctx, OPERATOR, "Zz0Zz0Zz")
