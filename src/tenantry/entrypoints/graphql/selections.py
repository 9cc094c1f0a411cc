"""What a document selects, known when it is prepared: the paths of field names
(`tenant.users`) of the fields it selects without arguments or directives, to two levels. A
resolver may then read ahead what its children will ask for (`hub.resolve_tenant` reads a
tenant with its users in one service call). A hint, never a rule: a path listed for one
operation of the document, or in a fragment under `@skip`, only costs a read that goes
unused."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

LEVELS = 2


def plain_selections(document: DocumentNode) -> frozenset[str]:
    """The paths of the fields `document` selects without arguments, up to `LEVELS` deep."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: set[str] = set()

    def walk(selection_set: SelectionSetNode | None, prefix: str, level: int) -> None:
        if selection_set is None or level == LEVELS:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                path = prefix + selection.name.value
                if not selection.arguments and not selection.directives:
                    found.add(path)  # (a field under @skip or @include may not be asked)
                walk(selection.selection_set, path + ".", level + 1)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, prefix, level)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:  # a validated document spreads no fragment twice
                    walk(fragment.selection_set, prefix, level)  # on one path (no cycles)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set, "", 0)
    return frozenset(found)
