"""Executing GraphQL: schema from SDL with bound resolvers, cached documents, limits.

Parsing and validating cost as much as executing, so each distinct query text is parsed and
validated once and kept (bounded LRU). Resolvers are synchronous; a request runs in the server's
thread pool, so the executor never awaits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    build_schema,
    execute,
    get_named_type,
    parse,
    specified_rules,
    validate,
)

from tenantry.entrypoints.graphql.compiled import CompiledOperation, Unsupported
from tenantry.entrypoints.graphql.documents import choose_operation
from tenantry.entrypoints.graphql.selections import plain_selections
from tenantry.entrypoints.http import control_characters

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


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    """How large a query may be once its fragments are expanded. Depth alone does not bound
    the work: aliases repeat a field side by side, lists multiply what is below them, and
    fragments spread twice per level double at every level."""

    max_depth: int = MAX_DEPTH
    max_fields: int = 1_000
    """Field selections, counting every expansion of a fragment."""
    max_list_nesting: int = 3
    """Lists inside lists: `tenants.nodes → users → roles` is three."""
    max_list_fields: int = 25
    """Selections of list fields: each may return a whole account's worth of rows."""
    max_changes: int = 10
    """Mutation fields (under `Mutation` or a `...Mutations` namespace) in one request."""


class _Exceeded(Exception):
    def __init__(self, message: str, node: FieldNode) -> None:
        super().__init__(message)
        self.node = node


@dataclass(slots=True)
class _Walk:
    """One pass over an operation, fragments expanded, stopping at the first limit exceeded
    (so that a fragment bomb costs at most `max_fields` steps)."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    limits: ShapeLimits
    fields: int = 0
    list_fields: int = 0
    changes: int = 0

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        depth: int,
        lists: int,
        visiting: frozenset[str],
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, depth + 1, lists, visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, inner, depth, lists, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue  # unknown fragments and cycles are reported by the standard rules
                inner = self.schema.get_type(fragment.type_condition.name.value)
                self.selections(fragment.selection_set, inner, depth, lists, visiting | {name})

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        depth: int,
        lists: int,
        visiting: frozenset[str],
    ) -> None:
        limits = self.limits
        self.fields += 1
        if self.fields > limits.max_fields:
            raise _Exceeded(f"The query selects more than {limits.max_fields} fields.", node)
        if depth > limits.max_depth:
            raise _Exceeded(f"The query is nested more than {limits.max_depth} levels deep.", node)
        fields = (
            parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        )
        definition = fields.get(node.name.value)
        if definition is None:
            return  # introspection (bounded by the schema), or unknown: the standard rules say
        if isinstance(parent, GraphQLObjectType) and _is_change(parent, definition):
            self.changes += 1
            if self.changes > limits.max_changes:
                raise _Exceeded(f"A request may make at most {limits.max_changes} changes.", node)
        if _is_list(definition.type):
            lists += 1
            self.list_fields += 1
            if lists > limits.max_list_nesting:
                raise _Exceeded(
                    f"The query nests lists {lists} deep; the limit is {limits.max_list_nesting}.",
                    node,
                )
            if self.list_fields > limits.max_list_fields:
                raise _Exceeded(
                    f"The query selects more than {limits.max_list_fields} lists.", node
                )
        named = get_named_type(definition.type)
        self.selections(node.selection_set, named, depth, lists, visiting)


def _is_list(type_: GraphQLOutputType) -> bool:
    return isinstance(type_, GraphQLList) or (
        isinstance(type_, GraphQLNonNull) and isinstance(type_.of_type, GraphQLList)
    )


def _is_change(parent: GraphQLObjectType, field: GraphQLField) -> bool:
    """A mutation field that does something: on `Mutation` or on a `...Mutations` namespace,
    and not itself a namespace."""
    on_mutations = parent.name == "Mutation" or parent.name.endswith("Mutations")
    return on_mutations and not get_named_type(field.type).name.endswith("Mutations")


def shape_limit_rule(limits: ShapeLimits) -> type[ValidationRule]:
    """A validation rule refusing operations over `limits`, fragments followed."""

    class ShapeLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            document = self.context.document
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            schema = self.context.schema
            walk = _Walk(schema, fragments, limits)
            try:
                walk.selections(
                    node.selection_set, schema.get_root_type(node.operation), 0, 0, frozenset()
                )
            except _Exceeded as exceeded:
                self.report_error(GraphQLError(str(exceeded), exceeded.node))

    return ShapeLimit


class ControlCharacterRule(ValidationRule):
    """String literals have escapes of their own: `"a\\u0000"` in a query is text to JSON (and
    to the server's check of the body) and NUL once GraphQL reads it, so a literal holding a
    control character no field accepts is refused here."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        found = control_characters.in_text(node.value)
        if found is not None:
            self.report_error(GraphQLError(control_characters.describe(found), node))


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()
    selected: frozenset[str] = frozenset()
    """The paths of the fields it selects without arguments (`selections.plain_selections`)."""
    plans: dict[str | None, CompiledOperation | None] = field(default_factory=dict)
    """The compiled plan of each operation run so far (None: the reference runs it)."""


class GraphQLEngine:
    """One schema, its document cache and limits."""

    def __init__(
        self, schema: GraphQLSchema, *, limits: ShapeLimits | None = None, compiled: bool = True
    ) -> None:
        self.schema = schema
        self.compiled = compiled
        """Run queries through their compiled plans (`compiled`), graphql-core the reference."""
        self._rules = (
            *specified_rules,
            shape_limit_rule(limits or ShapeLimits()),
            ControlCharacterRule,
        )
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._lock = threading.Lock()

    def prepare(self, query: str) -> PreparedDocument:
        """Parse and validate once per distinct query text (texts over the size limit are
        refused before the cache, so they cannot fill it)."""
        if len(query) > MAX_QUERY_CHARACTERS:
            return PreparedDocument(
                None,
                (GraphQLError(f"The query is longer than {MAX_QUERY_CHARACTERS} characters."),),
            )
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
        try:
            document = parse(query, max_tokens=MAX_QUERY_TOKENS)
        except GraphQLError as error:
            return PreparedDocument(None, (error,))
        errors = validate(self.schema, document, self._rules)
        if errors:
            return PreparedDocument(None, tuple(errors))
        return PreparedDocument(document, selected=plain_selections(document))

    def execute_prepared(
        self,
        prepared: PreparedDocument,
        *,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
    ) -> ExecutionResult:
        """Execute a valid prepared document: through its compiled plan where it has one,
        else (and for what the plan leaves to it) through graphql-core."""
        document = prepared.document
        assert document is not None
        if self.compiled:
            plan = self._plan(prepared, document, operation_name)
            if plan is not None:
                result = plan.execute(context, variables)
                if result is not None:
                    return result
        return self.execute(
            document, variables=variables, operation_name=operation_name, context=context
        )

    def _plan(
        self, prepared: PreparedDocument, document: DocumentNode, operation_name: str | None
    ) -> CompiledOperation | None:
        if operation_name in prepared.plans:
            return prepared.plans[operation_name]
        operation = choose_operation(document, operation_name)
        plan = None
        if operation is not None:
            try:
                plan = CompiledOperation(self.schema, document, operation)
            except Unsupported:
                plan = None
        prepared.plans[operation_name] = plan
        return plan

    def execute(
        self,
        document: DocumentNode,
        *,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
    ) -> ExecutionResult:
        """The reference path: graphql-core's executor."""
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
