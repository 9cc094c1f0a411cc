"""Executing GraphQL: schema from SDL with bound resolvers, cached documents, limits.

Parsing and validating cost as much as executing, so each distinct query text is parsed and
validated once and kept (bounded LRU). Resolvers are synchronous; a request runs in the server's
thread pool, so the executor never awaits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute,
    parse,
    specified_rules,
    validate,
)

Resolver = Callable[..., Any]

MAX_QUERY_CHARACTERS = 20_000
MAX_QUERY_TOKENS = 3_000
MAX_DEPTH = 10
CACHE_SIZE = 512


def load_schema(sdl_path: Path, resolvers: Mapping[str, Mapping[str, Resolver]]) -> GraphQLSchema:
    """Build the schema from its SDL file and attach resolvers by type and field name."""
    schema = build_schema(sdl_path.read_text(encoding="utf-8"))
    for type_name, fields in resolvers.items():
        graphql_type = schema.get_type(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            raise ValueError(f"{type_name} is not an object type of {sdl_path.name}")
        for field_name, resolver in fields.items():
            if field_name not in graphql_type.fields:
                raise ValueError(f"{type_name}.{field_name} is not in {sdl_path.name}")
            graphql_type.fields[field_name].resolve = resolver
    return schema


def depth_limit_rule(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule refusing selections nested deeper than `max_depth` (fragments
    followed), so one small query cannot ask for an exponential amount of work."""

    class DepthLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            depth = _depth(node.selection_set, fragments, 0, set())
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"The query is nested {depth} levels deep; the limit is {max_depth}.",
                        node,
                    )
                )

    return DepthLimit


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    depth: int,
    visiting: set[str],
) -> int:
    if selection_set is None:
        return depth
    deepest = depth
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, depth + 1, visiting))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, depth, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visiting or name not in fragments:
                continue  # cycles and unknown fragments are reported by the standard rules
            deepest = max(
                deepest,
                _depth(fragments[name].selection_set, fragments, depth, visiting | {name}),
            )
    return deepest


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()


class GraphQLEngine:
    """One schema, its document cache and limits."""

    def __init__(self, schema: GraphQLSchema, *, max_depth: int = MAX_DEPTH) -> None:
        self.schema = schema
        self._rules = (*specified_rules, depth_limit_rule(max_depth))
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._lock = threading.Lock()

    def prepare(self, query: str) -> PreparedDocument:
        """Parse and validate once per distinct query text."""
        with self._lock:
            cached = self._cache.get(query)
            if cached is not None:
                self._cache.move_to_end(query)
                return cached
        prepared = self._prepare(query)
        with self._lock:
            self._cache[query] = prepared
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> PreparedDocument:
        if len(query) > MAX_QUERY_CHARACTERS:
            return PreparedDocument(
                None,
                (GraphQLError(f"The query is longer than {MAX_QUERY_CHARACTERS} characters."),),
            )
        try:
            document = parse(query, max_tokens=MAX_QUERY_TOKENS)
        except GraphQLError as error:
            return PreparedDocument(None, (error,))
        errors = validate(self.schema, document, self._rules)
        if errors:
            return PreparedDocument(None, tuple(errors))
        return PreparedDocument(document)

    def execute(
        self,
        document: DocumentNode,
        *,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
    ) -> ExecutionResult:
        result = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            # Every resolver is synchronous: skip the per-value awaitable checks.
            is_awaitable=_never_awaitable,
        )
        assert isinstance(result, ExecutionResult)
        return result


def _never_awaitable(_value: Any) -> TypeGuard[Awaitable[Any]]:
    return False
