"""The SCIM services in the authorization matrix (tests/authz_cases.py): advertiser B's users
and groups (its roles) as an identity provider keeps them.

They follow the core's rules: reading users and groups reads the account (as list_members and
list_roles), writing users manages them (as the members services, so a manage member does not
act on an admin), and creating or deleting a group creates or deletes a custom role.

`SCIM_ROWS` are run by tests/integration/test_authorization_matrix.py with the other rows.
"""

from __future__ import annotations

from tenantry.services import provisioning, provisioning_groups
from tenantry.services.member_query import UserQuery
from tenantry.services.provisioning import UserSpec
from tenantry.services.provisioning_groups import EditAction, MemberChanges, MemberEdit

from authz_cases import (
    ALLOW,
    FORBIDDEN,
    NOT_FOUND,
    Cell,
    Row,
    _change_role_args,
    _custom_role,
    _unique,
    _victim,
    expect,
)
from factories import make_member, unique_email


def _replace_user_args(c: Cell) -> tuple[str, UserSpec]:
    """The victim, renamed (the same e-mail address, so only the profile changes)."""
    victim = _victim(c)
    return victim.id, UserSpec(victim.email, first_name="Renamed", last_name="Victim")


def _update_group_args(c: Cell) -> tuple[str, MemberChanges]:
    """A member of B moved into a group: the change_role row's role change, as a group's."""
    if c.column.through_own_account:
        # Through A, B's custom role is no group of A's.
        key = _custom_role(c.ctx, c.target.id, _unique("group"))
        return key, MemberChanges(add=[make_member(c.ctx, c.target, role="view").id])
    user_id, key = _change_role_args(c)
    return key, MemberChanges(add=[user_id])


SCIM_ROWS: tuple[Row, ...] = (
    # -- users --
    Row(
        provisioning.list_users,
        expect(view=ALLOW, manage=ALLOW),
        call=lambda c: provisioning.list_users(c.ctx, c.actor, c.account_id, UserQuery()),
        writes=False,
        reveals=lambda page, c: c.world.base.b_admin.id in {u.user.id for u in page.items},
    ),
    Row(
        provisioning.get_user,
        # Through A, B's member is no user of A's: NotFound, which tells A nothing about B.
        expect(view=ALLOW, manage=ALLOW, own=NOT_FOUND),
        prepare=lambda c: _victim(c).id,
        writes=False,
        reveals=lambda found, c: found.user.id == c.prepared,
    ),
    Row(
        provisioning.create_user,
        # A new user gets the base role, which a manage member may grant: no admin-only variant.
        expect(manage=ALLOW),
        prepare=lambda c: UserSpec(unique_email("scim")),
    ),
    Row(
        provisioning.replace_user,
        # The manage column renames an admin: admin-only, like removing one.
        expect(own=NOT_FOUND),
        prepare=_replace_user_args,
    ),
    Row(
        provisioning.delete_user,
        expect(own=NOT_FOUND),
        prepare=lambda c: _victim(c).id,
    ),
    # -- groups: one per role of the account --
    Row(
        provisioning_groups.list_groups,
        expect(view=ALLOW, manage=ALLOW),
        call=lambda c: provisioning_groups.list_groups(
            c.ctx, c.actor, c.account_id, with_members=True
        ),
        writes=False,
        reveals=lambda found, c: c.world.b_role in {g.role.key for g in found},
    ),
    Row(
        provisioning_groups.get_group,
        # Through A, B's custom role is no group of A's.
        expect(view=ALLOW, manage=ALLOW, own=NOT_FOUND),
        call=lambda c: provisioning_groups.get_group(
            c.ctx, c.actor, c.account_id, c.world.b_role, with_members=True
        ),
        writes=False,
        reveals=lambda group, c: group.role.key == c.world.b_role,
    ),
    Row(
        provisioning_groups.create_group,
        # A group is a custom role: creating one takes what roles.create_custom_role takes.
        expect(),
        call=lambda c: provisioning_groups.create_group(
            c.ctx, c.actor, c.account_id, _unique("Group")
        ),
    ),
    Row(
        provisioning_groups.update_group,
        # Moving a member between groups changes their role, with change_role's rules: the
        # manage column promotes a viewer to admin, and grants no role beyond its own.
        expect(own=NOT_FOUND, grants=FORBIDDEN),
        call=lambda c: provisioning_groups.update_group(
            c.ctx, c.actor, c.account_id, c.prepared[0], changes=c.prepared[1]
        ),
        prepare=_update_group_args,
    ),
    Row(
        provisioning_groups.edit_group,
        # A PATCH's edits, applied to the members as they are: the same move as update_group's.
        expect(own=NOT_FOUND, grants=FORBIDDEN),
        call=lambda c: provisioning_groups.edit_group(
            c.ctx,
            c.actor,
            c.account_id,
            c.prepared[0],
            [MemberEdit(EditAction.ADD, list(c.prepared[1].add))],
        ),
        prepare=_update_group_args,
    ),
    Row(
        provisioning_groups.delete_group,
        expect(own=NOT_FOUND),
        prepare=lambda c: _custom_role(c.ctx, c.target.id, _unique("doomed")),
    ),
)
