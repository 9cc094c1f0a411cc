"""A compiled execution path for cached, validated query documents.

graphql-core is the reference: it interprets the document anew on every request, building a
resolve-info object per field, checking every value for awaitables and walking the schema's
wrapping types again for every row. For a document already parsed and validated (the engine
keeps them), this module turns each operation's selection sets into a plan once: per field,
its response key, its resolver, its arguments (coerced once when they use no variables) and a
completer built from its type (non-null, list, leaf, object with its own plan). Executing a
plan is then a direct projection of what the resolvers return, with the reference's semantics:
the same data, the same errors (messages, locations, paths, in the same order), the same
nulls propagated to the nearest nullable field.

Documents whose shape this path does not cover are answered by graphql-core: operations
other than queries, introspection (`__schema`, `__type`), abstract types, and anything that
needs the reference to say what went wrong before execution (an unknown operation, variables
that do not coerce). `tests/unit/test_graphql_compiled.py` and
`tests/api/hub/test_compiled_paths.py` check, on generated queries, that both paths give
identical answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    located_error,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined, inspect, is_iterable

from tenantry.entrypoints.graphql.documents import (
    condition_key,
    has_conditions,
    included,
    uses_variables,
)
from tenantry.entrypoints.graphql.projection import build_projection

MAX_COERCION_ERRORS = 50  # as graphql-core's executor
TYPENAME = "__typename"


class Unsupported(Exception):
    """The document needs the reference executor."""


@dataclass(slots=True)
class ResolveInfo:
    """What the resolvers read of graphql-core's `GraphQLResolveInfo`: the context. One per
    request, shared by every field (the resolvers of these schemas read nothing else)."""

    context: Any
    projected: dict[tuple[Any, int], tuple[Any, Any]]  # by selection and source (`_shared`)


class _Propagate(Exception):
    """A located error on its way up to the nearest nullable field."""

    def __init__(self, error: GraphQLError) -> None:
        self.error = error


Completer = Callable[[Any, "Path", "_Run"], Any]


@dataclass(slots=True)
class _Field:
    key: str
    name: str
    nodes: list[FieldNode]
    definition: GraphQLField | None  # None for __typename
    parent: GraphQLObjectType
    resolver: Callable[..., Any] | None
    static_args: dict[str, Any] | None  # None when the arguments use variables
    complete: Completer  # of the nullable type (a non-null one is checked by the caller)
    non_null: bool
    null_message: str
    leaf: bool  # completing needs no path (only an error does)
    nullable: GraphQLOutputType | None = None  # the type without its non-null wrapper
    # its selection sets (objects)
    sets: list[SelectionSetNode] = dataclasses.field(default_factory=list)


@dataclass(slots=True)
class _Run:
    info: ResolveInfo
    variables: Any  # graphql-core's VariableValues
    errors: list[GraphQLError]


class CompiledOperation:
    """One operation of a validated document, planned; `execute` may be called concurrently."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> None:
        if operation.operation is not OperationType.QUERY:
            raise Unsupported("only queries are compiled")
        root = schema.query_type
        if root is None:
            raise Unsupported("no query type")
        self.schema = schema
        self.operation = operation
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.dynamic = has_conditions(document)
        self.root = root
        # Plans are made per selection set; with @skip/@include depending on variables, per
        # set of their values (few in practice).
        self._plans: dict[tuple[tuple[int, ...], Any], list[_Field]] = {}
        self.projection: Callable[[Any, Any, Any], dict[str, Any]] | None = None
        if not self.dynamic:
            root_plan = self._plan(root, [operation.selection_set], None)  # Unsupported now
            self.projection = build_projection(self, root, root_plan)

    # -- planning ------------------------------------------------------------------------------

    def _plan(
        self, parent: GraphQLObjectType, sets: list[SelectionSetNode], variables: Any
    ) -> list[_Field]:
        conditions = condition_key(variables) if self.dynamic else None
        cache_key = (tuple(map(id, sets)), conditions)
        plan = self._plans.get(cache_key)
        if plan is None:
            plan = self._make_plan(parent, sets, variables)
            self._plans[cache_key] = plan
        return plan

    def _make_plan(
        self, parent: GraphQLObjectType, sets: list[SelectionSetNode], variables: Any
    ) -> list[_Field]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in sets:
            self._collect(parent, selection_set, variables, grouped, set())
        plan = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == TYPENAME:
                typename = _typename(parent)
                plan.append(
                    _Field(key, name, nodes, None, parent, None, {}, typename, True, "", True)
                )
                continue
            if name.startswith("__"):
                raise Unsupported("introspection")
            definition = parent.fields.get(name)
            if definition is not None:  # as the reference: a field the type lacks is skipped
                plan.append(self._field(key, nodes, parent, definition))
        return plan

    def _field(
        self, key: str, nodes: list[FieldNode], parent: GraphQLObjectType, definition: GraphQLField
    ) -> _Field:
        name = nodes[0].name.value
        static = None
        if not uses_variables(nodes[0]):
            static = (
                get_argument_values(definition, nodes[0], None)
                if definition.args or nodes[0].arguments
                else {}
            )
        type_ = definition.type
        nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        return _Field(
            key,
            name,
            nodes,
            definition,
            parent,
            definition.resolve,
            static,
            self._completer(nullable, parent, name, nodes),
            isinstance(type_, GraphQLNonNull),
            _null_message(parent, name),
            isinstance(nullable, GraphQLLeafType),
            nullable,
            [n.selection_set for n in nodes if n.selection_set is not None],
        )

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        variables: Any,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != parent.name:
                    raise Unsupported("type conditions on abstract types")
                self._collect(parent, selection.selection_set, variables, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None:
                    continue
                if fragment.type_condition.name.value != parent.name:
                    raise Unsupported("type conditions on abstract types")
                self._collect(parent, fragment.selection_set, variables, grouped, visited)

    def _completer(
        self,
        type_: GraphQLOutputType,
        parent: GraphQLObjectType,
        field_name: str,
        nodes: list[FieldNode],
    ) -> Completer:
        if isinstance(type_, GraphQLNonNull):
            inner = self._completer(type_.of_type, parent, field_name, nodes)
            message = f"Cannot return null for non-nullable field {parent}.{field_name}."

            def complete_non_null(value: Any, path: Path, run: _Run) -> Any:
                completed = inner(value, path, run)
                if completed is None:
                    raise TypeError(message)
                return completed

            return complete_non_null
        if isinstance(type_, GraphQLList):
            return self._list_completer(type_, parent, field_name, nodes)
        if isinstance(type_, GraphQLLeafType):
            return _leaf_completer(type_)
        if isinstance(type_, GraphQLObjectType):
            object_type = type_
            sets = [n.selection_set for n in nodes if n.selection_set is not None]
            fixed = None if self.dynamic else self._plan(object_type, sets, None)
            execute_fields = self._execute_fields

            def complete_object(value: Any, path: Path, run: _Run) -> Any:
                if value is None or value is Undefined:
                    return None
                if isinstance(value, Exception):
                    raise value
                plan = fixed if fixed is not None else self._plan(object_type, sets, run.variables)
                return execute_fields(plan, value, path, run)

            return complete_object
        raise Unsupported(f"abstract type {type_}")

    def _list_completer(
        self,
        type_: GraphQLList[Any],
        parent: GraphQLObjectType,
        field_name: str,
        nodes: list[FieldNode],
    ) -> Completer:
        item_type = type_.of_type
        item_non_null = isinstance(item_type, GraphQLNonNull)
        item = self._completer(
            item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type,
            parent,
            field_name,
            nodes,
        )
        null_message = _null_message(parent, field_name)
        message = f"Expected Iterable, but did not find one for field '{parent}.{field_name}'."

        def complete_list(value: Any, path: Path, run: _Run) -> Any:
            if value is None or value is Undefined:
                return None
            if isinstance(value, Exception):
                raise value
            if not is_iterable(value):
                raise GraphQLError(message)
            completed: list[Any] = []
            append = completed.append
            for index, element in enumerate(value):
                item_path = Path(path, index, None)
                try:
                    completed_item = item(element, item_path, run)
                    if completed_item is None and item_non_null:
                        raise TypeError(null_message)
                    append(completed_item)
                except _Propagate as propagated:
                    if item_non_null:
                        raise
                    run.errors.append(propagated.error)
                    append(None)
                except Exception as raw:
                    error = located_error(raw, nodes, item_path.as_list())
                    if item_non_null:
                        raise _Propagate(error) from raw
                    run.errors.append(error)
                    append(None)
            return completed

        return complete_list

    # -- executing -----------------------------------------------------------------------------

    def _execute_fields(
        self, plan: list[_Field], source: Any, path: Path | None, run: _Run
    ) -> dict[str, Any]:
        results: dict[str, Any] = {}
        info = run.info
        for field in plan:
            # Leaves need their path only for an error; objects and lists pass it down.
            field_path = None if field.leaf else Path(path, field.key, field.parent.name)
            try:
                resolver = field.resolver
                if resolver is None:
                    if field.definition is None:  # __typename
                        results[field.key] = field.parent.name
                        continue
                    if type(source) is dict:
                        value = source.get(field.name)
                        if callable(value):
                            value = value(info, **self._args(field, run))
                    else:
                        value = _default_resolver(source, info, field.name, self._args(field, run))
                else:
                    args = field.static_args
                    if args is None:
                        args = self._args(field, run)
                    value = resolver(source, info, **args) if args else resolver(source, info)
                completed = field.complete(value, field_path, run)  # type: ignore[arg-type]
                if completed is None and field.non_null:
                    raise TypeError(field.null_message)
                results[field.key] = completed
            except _Propagate as propagated:
                if field.non_null:
                    raise
                run.errors.append(propagated.error)
                results[field.key] = None
            except Exception as raw:
                if field_path is None:
                    field_path = Path(path, field.key, field.parent.name)
                error = located_error(raw, field.nodes, field_path.as_list())
                if field.non_null:
                    raise _Propagate(error) from raw
                run.errors.append(error)
                results[field.key] = None
        return results

    @staticmethod
    def _args(field: _Field, run: _Run) -> dict[str, Any]:
        if field.static_args is not None:
            return field.static_args
        assert field.definition is not None
        return get_argument_values(field.definition, field.nodes[0], run.variables)

    def execute(
        self, context: Any, raw_variables: dict[str, Any] | None, root_value: Any = None
    ) -> ExecutionResult | None:
        """The result, or None when the reference must answer (variables that do not
        coerce: it reports them in its own words)."""
        variables = get_variable_values(
            self.schema,
            self.operation.variable_definitions or (),
            raw_variables or {},
            max_errors=MAX_COERCION_ERRORS,
        )
        if isinstance(variables, list):
            return None
        info = ResolveInfo(context, {})
        if self.projection is not None:
            try:
                return ExecutionResult(self.projection(root_value, info, variables), None)
            except Exception:  # noqa: S110 (the generic path says what went wrong, exactly)
                pass
        run = _Run(info, variables, [])
        plan = self._plan(self.root, [self.operation.selection_set], variables)
        try:
            data: dict[str, Any] | None = self._execute_fields(plan, root_value, None, run)
        except _Propagate as propagated:
            run.errors.append(propagated.error)
            data = None
        return ExecutionResult(data, run.errors or None)


def _default_resolver(source: Any, info: ResolveInfo, name: str, args: dict[str, Any]) -> Any:
    """graphql-core's default: a key of a mapping, else an attribute, called if callable."""
    value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
    if callable(value):
        return value(info, **args)
    return value


def _null_message(parent: GraphQLObjectType, field_name: str) -> str:
    return f"Cannot return null for non-nullable field {parent}.{field_name}."


def _typename(parent: GraphQLObjectType) -> Completer:
    name = parent.name

    def complete_typename(_: Any, __: Path, ___: _Run) -> str:
        return name

    return complete_typename


def _leaf_completer(type_: GraphQLLeafType) -> Completer:
    coerce = type_.coerce_output_value
    # Strings and ids that are already `str` come out as they are (graphql-core's coercion
    # returns them unchanged too); everything else goes through the type's own coercion.
    passes = str if type_ in (GraphQLString, GraphQLID) else None

    def complete_leaf(value: Any, path: Path, run: _Run) -> Any:
        if type(value) is passes:
            return value
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):
            raise value
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(type_)}.coerce_output_value("
                f"{inspect(value)})` to return non-nullable value, returned:"
                f" {inspect(coerced)}"
            )
        return coerced

    return complete_leaf
