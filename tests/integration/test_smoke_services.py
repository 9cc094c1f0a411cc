from tenantry.services import members
from tenantry.services.context import ServiceContext

from factories import World, as_user


def test_world_builds_on_every_engine(ctx: ServiceContext, world: World) -> None:
    page = members.list_members(ctx, as_user(world.a_admin), world.a.id)
    assert [m.user.email for m in page.items] == [world.a_admin.email]
