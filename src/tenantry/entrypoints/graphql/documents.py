"""What the compiled path reads off a query document: which operation runs, which selections
@skip/@include keep, and whether arguments and conditions depend on variables."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLIncludeDirective,
    GraphQLSkipDirective,
    OperationDefinitionNode,
)
from graphql.execution.values import get_directive_values


def included(node: Any, variables: Any) -> bool:
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip and skip["if"] is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include and include["if"] is False)


def has_conditions(document: DocumentNode) -> bool:
    """Whether any @skip or @include reads a variable (else one plan fits every request)."""
    found = False

    def visit(node: Any) -> None:
        nonlocal found
        for directive in getattr(node, "directives", None) or ():
            if directive.name.value in ("skip", "include") and any(
                a.value.kind == "variable" for a in directive.arguments or ()
            ):
                found = True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            for selection in selection_set.selections:
                visit(selection)

    for definition in document.definitions:
        visit(definition)
    return found


def condition_key(variables: Any) -> Any:
    coerced = getattr(variables, "coerced", None) or {}
    return tuple(sorted((k, repr(v)) for k, v in coerced.items()))


def uses_variables(node: FieldNode) -> bool:
    found = False

    def visit(value: Any) -> None:
        nonlocal found
        kind = value.kind
        if kind == "variable":
            found = True
        elif kind == "list_value":
            for item in value.values:
                visit(item)
        elif kind == "object_value":
            for field in value.fields:
                visit(field.value)

    for argument in node.arguments or ():
        visit(argument.value)
    return found


def choose_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation to run, or None where the reference reports an error."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    named = [o for o in operations if o.name is not None and o.name.value == operation_name]
    return named[0] if len(named) == 1 else None
