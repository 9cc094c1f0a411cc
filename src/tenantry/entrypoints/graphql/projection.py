"""Direct projections: a planned query turned into Python source, one function per selection
set, that builds the answer's dictionaries straight from what the resolvers return.

A projection is the optimistic path of `compiled.CompiledOperation`: it checks nothing a
correct answer does not need checked (`str` values of String and ID fields pass as they are;
lists are comprehensions), and at the first surprise (an exception, a null where the schema
says non-null, a value of an unexpected shape) it gives up by raising, and the operation is
executed again by the generic plan, which reports errors exactly as graphql-core does. Only
queries are projected, whose resolvers read (the loaders cache what they load, so the second
run asks the database nothing the first one already asked).

Plans with @skip/@include that read variables, and lists of lists, are not projected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Undefined

if TYPE_CHECKING:
    from tenantry.entrypoints.graphql.compiled import CompiledOperation, _Field

Projection = Callable[[Any, Any, Any], dict[str, Any]]


class GiveUp(Exception):
    """The projection met something only the generic path answers exactly."""


class _NotProjectable(Exception):
    pass


def build_projection(
    operation: CompiledOperation, root: GraphQLObjectType, plan: list[_Field]
) -> Projection | None:
    """The projection of an operation's root plan, or None where one cannot be made."""
    builder = _Builder(operation)
    try:
        name = builder.object_function(root, plan)
    except _NotProjectable:
        return None
    source = "\n".join(builder.lines)
    namespace = dict(builder.names)
    exec(compile(source, "<graphql projection>", "exec"), namespace)  # noqa: S102 (our code)
    function = namespace[name]

    def project(root: Any, info: Any, variables: Any) -> dict[str, Any]:
        result: dict[str, Any] = function(root, info, variables)
        return result

    return project


def _shared(source: Any, info: Any, variables: Any, project: Projection) -> dict[str, Any]:
    """`project(source, …)`, once per source in a request: an object whose fields are all
    read from the source as they are (no resolver, no arguments, leaves only) answers the
    same wherever the same source meets it with the same selection (`project`), as the roles
    users share do (a hundred roles for 50 users, two distinct views). The answer is shared,
    not copied: nothing changes an answer once projected."""
    answer: dict[str, Any] = _once(info, project, source, lambda: project(source, info, variables))
    return answer


def _shared_list(
    items: list[Any], info: Any, variables: Any, project: Projection, non_null: bool
) -> list[Any]:
    """A list of such objects, projected once per list in a request: a resolver that gives
    the same list again (the roles of every user holding the same ones) gets the same
    answer, without a look at each item again."""
    answer: list[Any] = _once(
        info,
        project,
        items,
        lambda: [None if x is None else _shared(x, info, variables, project) for x in items],
    )
    if non_null and None in answer:
        raise GiveUp
    return answer


def _once(info: Any, project: Projection, source: Any, make: Callable[[], Any]) -> Any:
    """What `make` answers for `source` under the selection `project`, made once a request:
    kept by the source's identity, with the source kept alive so that no other object can
    take that identity while the request lasts."""
    key = (project, id(source))  # the same source may be met by another selection too
    found = info.projected.get(key)
    if found is not None and found[0] is source:
        return found[1]
    answer = make()
    info.projected[key] = (source, answer)
    return answer


def _default(source: Any, info: Any, name: str, args: dict[str, Any]) -> Any:
    """graphql-core's default resolver."""
    value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
    if callable(value):
        return value(info, **args)
    return value


class _Builder:
    def __init__(self, operation: CompiledOperation) -> None:
        self.operation = operation
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "GiveUp": GiveUp,
            "_default": _default,
            "_argument_values": get_argument_values,
            "_shared": _shared,
            "_shared_list": _shared_list,
        }
        self.functions: dict[tuple[str, tuple[int, ...]], str] = {}

    def name(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def object_function(self, type_: GraphQLObjectType, plan: list[_Field]) -> str:
        key = (type_.name, tuple(id(f) for f in plan))
        if key in self.functions:
            return self.functions[key]
        function = f"project_{type_.name}_{len(self.functions)}"
        self.functions[key] = function
        body: list[str] = []
        values: list[str] = []
        for number, field in enumerate(plan):
            value = f"c{number}"
            body += self.field(field, value)
            values.append(f"{field.key!r}: {value}")
        self.lines.append(f"def {function}(source, info, variables):")
        self.lines.append("    if isinstance(source, Exception): raise GiveUp")
        self.lines += ["    " + line for line in body]
        self.lines.append("    return {" + ", ".join(values) + "}")
        self.lines.append("")
        return function

    def field(self, field: _Field, out: str) -> list[str]:
        if field.definition is None:  # __typename
            return [f"{out} = {field.parent.name!r}"]
        if field.static_args is not None:
            args = self.name("A", field.static_args)
        else:
            args = (
                f"_argument_values({self.name('D', field.definition)},"
                f" {self.name('N', field.nodes[0])}, variables)"
            )
        if field.resolver is None:
            lines = [
                f"v = source.get({field.name!r}) if type(source) is dict"
                f" else _default(source, info, {field.name!r}, {args})",
                "if callable(v): raise GiveUp",
            ]
        else:
            resolver = self.name("R", field.resolver)
            call = (
                f"{resolver}(source, info)"
                if field.static_args == {}
                else (f"{resolver}(source, info, **{args})")
            )
            lines = [f"v = {call}"]
        assert field.nullable is not None
        lines += self.complete(field.nullable, field, "v", out)
        if field.non_null:
            lines.append(f"if {out} is None: raise GiveUp")
        return lines

    def complete(self, type_: Any, field: _Field, value: str, out: str) -> list[str]:
        """Lines setting `out` to `value` completed as the nullable `type_`."""
        if isinstance(type_, GraphQLLeafType):
            return [f"{out} = {self.leaf(type_, value)}"]
        if isinstance(type_, GraphQLObjectType):
            plan = self.operation._plan(type_, field.sets, None)
            function = self.object_function(type_, plan)
            return [f"{out} = None if {value} is None else {function}({value}, info, variables)"]
        if isinstance(type_, GraphQLList):
            item_type = type_.of_type
            non_null = isinstance(item_type, GraphQLNonNull)
            inner = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
            if isinstance(inner, GraphQLLeafType):
                item = self.leaf(inner, "x")
            elif isinstance(inner, GraphQLObjectType):
                plan = self.operation._plan(inner, field.sets, None)
                function = self.object_function(inner, plan)
                if _reads_source_only(plan):
                    return [
                        f"if {value} is None: {out} = None",
                        f"elif type({value}) is list: {out} = _shared_list("
                        f"{value}, info, variables, {function}, {non_null})",
                        "else: raise GiveUp",
                    ]
                item = f"(None if x is None else {function}(x, info, variables))"
            else:
                raise _NotProjectable("lists of lists")
            lines = [
                f"if {value} is None: {out} = None",
                f"elif type({value}) is list: {out} = [{item} for x in {value}]",
                "else: raise GiveUp",
            ]
            if non_null:
                lines.append(f"if {out} is not None and None in {out}: raise GiveUp")
            return lines
        raise _NotProjectable(f"type {type_}")

    def leaf(self, type_: GraphQLLeafType, value: str) -> str:
        coerce = self.name("L", _leaf(type_))
        if type_ in (GraphQLString, GraphQLID):
            return f"({value} if type({value}) is str else {coerce}({value}))"
        return f"{coerce}({value})"


def _reads_source_only(plan: list[_Field]) -> bool:
    """Whether every field of `plan` is a leaf read from the source as it is: its answer
    then depends on nothing but the source."""
    return all(
        field.definition is None
        or (
            field.resolver is None
            and field.static_args == {}
            and isinstance(field.nullable, GraphQLLeafType)
        )
        for field in plan
    )


def _leaf(type_: GraphQLLeafType) -> Callable[[Any], Any]:
    coerce = type_.coerce_output_value

    def complete(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Exception):
            raise GiveUp
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise GiveUp
        return coerced

    return complete
