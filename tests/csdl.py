"""A small, stdlib-only reader of Graph's v1.0 CSDL (/work/shared/graph-schema/v1.0.csdl, Microsoft's published
``$metadata``), parsed once per test session, for checking what the simulator serves.

The index: entity and complex types (base type, ``OpenType``, structural and navigation properties with type
and ``Nullable``), enum types, the container's entity sets and singletons, and bound functions and actions by
the type of their binding parameter (``Collection(...)`` included). Names come back qualified
(``microsoft.graph.driveItem``, ``Collection(microsoft.graph.user)``); short names, aliases (``graph.``,
``self.`` for the security namespace) and ``#``-prefixed ``@odata.type`` values are accepted.

``resolve_path``: entity set or singleton, key, property, type cast, bound operation, matched exactly and then
case-insensitively (as Graph does); an operation without a return type resolves to :data:`VOID`.
``check_object``: undeclared properties (on an open type, unless allowlisted), primitives of the wrong JSON
type or format, enum values that are no members (or evolvable members past ``unknownFutureValue``, which Graph
sends only on ``Prefer: include-unknown-enum-members``), ``null`` where ``Nullable="false"``; recursive into
complex values, collections and expanded navigation properties. ``@odata.type`` picks a derived type; every
other annotation is ignored.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CSDL_PATH = Path("/work/shared/graph-schema/v1.0.csdl")
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
GRAPH = "microsoft.graph"
VOID = "void"  # what an action or function without a return type resolves to

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DURATION = re.compile(r"^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_FORMATS = {"Edm.DateTimeOffset": _DATE_TIME, "Edm.Date": _DATE, "Edm.Guid": _GUID, "Edm.Duration": _DURATION}
_STRINGS = {"Edm.String", "Edm.TimeOfDay", "Edm.Binary", *_FORMATS}
_INTEGERS = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"}
_NUMBERS = {"Edm.Double", "Edm.Single", "Edm.Decimal"}


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    type: str  # qualified: "Edm.String", "microsoft.graph.identitySet", "Collection(...)"
    nullable: bool = True


@dataclass(slots=True)
class StructuredType:
    name: str  # qualified
    kind: str  # "entity" | "complex"
    base: str | None
    open: bool
    props: dict[str, Prop] = field(default_factory=dict)
    nav: dict[str, Prop] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EnumType:
    name: str
    members: tuple[str, ...]
    values: tuple[int, ...]
    flags: bool

    def evolvable_members(self) -> set[str]:
        """Members declared after ``unknownFutureValue``: Graph sends them only when asked."""
        if "unknownFutureValue" not in self.members:
            return set()
        sentinel = self.values[self.members.index("unknownFutureValue")]
        return {m for m, v in zip(self.members, self.values, strict=True) if v > sentinel}


@dataclass(frozen=True, slots=True)
class Operation:
    name: str  # qualified
    kind: str  # "function" | "action"
    binding: str  # qualified type of the binding parameter
    returns: str | None
    composable: bool


def _element_type(type_name: str) -> str | None:
    return type_name[len("Collection(") : -1] if type_name.startswith("Collection(") else None


class Schema:
    """The index; build it through :func:`schema` (cached)."""

    def __init__(self, path: Path = CSDL_PATH) -> None:
        self.types: dict[str, StructuredType] = {}
        self.enums: dict[str, EnumType] = {}
        self.aliases: dict[str, str] = {}
        self.entity_sets: dict[str, str] = {}  # name -> Collection(type)
        self.singletons: dict[str, str] = {}  # name -> type
        self.operations: dict[str, list[Operation]] = {}  # binding type -> operations
        self._load(ET.parse(path).getroot())
        self._lower: dict[str, str] = {n.lower(): n for n in [*self.types, *self.enums]}

    # --- loading ----------------------------------------------------------------------------------
    def _load(self, root: ET.Element) -> None:
        schemas = list(root.iter(f"{EDM}Schema"))
        for schema in schemas:
            if alias := schema.get("Alias"):
                self.aliases[alias] = schema.get("Namespace", "")
        for schema in schemas:
            ns = schema.get("Namespace", "")
            for el in schema:
                tag = el.tag.removeprefix(EDM)
                if tag in ("EntityType", "ComplexType"):
                    self._load_type(ns, el, "entity" if tag == "EntityType" else "complex")
                elif tag == "EnumType":
                    self._load_enum(ns, el)
                elif tag in ("Function", "Action") and el.get("IsBound") == "true":
                    self._load_operation(ns, el, tag.lower())
                elif tag == "EntityContainer":
                    for m in el.iter(f"{EDM}EntitySet"):
                        self.entity_sets[m.get("Name", "")] = f"Collection({self.qualify(m.get('EntityType', ''))})"
                    for m in el.iter(f"{EDM}Singleton"):
                        self.singletons[m.get("Name", "")] = self.qualify(m.get("Type", ""))

    def _load_type(self, ns: str, el: ET.Element, kind: str) -> None:
        name = f"{ns}.{el.get('Name')}"
        base = el.get("BaseType")
        st = StructuredType(name, kind, self.qualify(base) if base else None, el.get("OpenType") == "true")
        for child in el:
            tag = child.tag.removeprefix(EDM)
            if tag in ("Property", "NavigationProperty"):
                prop = Prop(child.get("Name", ""), self.qualify(child.get("Type", "")), child.get("Nullable") != "false")
                (st.props if tag == "Property" else st.nav)[prop.name] = prop
        self.types[name] = st

    def _load_enum(self, ns: str, el: ET.Element) -> None:
        members = [(m.get("Name", ""), int(m.get("Value", i))) for i, m in enumerate(el.iter(f"{EDM}Member"))]
        name = f"{ns}.{el.get('Name')}"
        names, values = tuple(n for n, _ in members), tuple(v for _, v in members)
        self.enums[name] = EnumType(name, names, values, el.get("IsFlags") == "true")

    def _load_operation(self, ns: str, el: ET.Element, kind: str) -> None:
        binding = next(iter(el.iter(f"{EDM}Parameter")), None)
        if binding is None:
            return
        ret = next(iter(el.iter(f"{EDM}ReturnType")), None)
        returns = self.qualify(ret.get("Type", "")) if ret is not None else None
        binding_type = self.qualify(binding.get("Type", ""))
        op = Operation(f"{ns}.{el.get('Name')}", kind, binding_type, returns, el.get("IsComposable") == "true")
        self.operations.setdefault(op.binding, []).append(op)

    # --- names ------------------------------------------------------------------------------------
    def qualify(self, name: str) -> str:
        """``driveItem`` / ``graph.driveItem`` / ``#microsoft.graph.driveItem`` / ``Collection(graph.x)`` ->
        the qualified spelling; Edm primitives stay as they are."""
        name = name.strip().lstrip("#")
        if inner := _element_type(name):
            return f"Collection({self.qualify(inner)})"
        if name.startswith("Edm."):
            return name
        head, _, tail = name.rpartition(".")
        if not head:
            return f"{GRAPH}.{name}"
        return f"{self.aliases.get(head, head)}.{tail}"

    def _known(self, name: str) -> str | None:
        q = self.qualify(name)
        if q in self.types or q in self.enums:
            return q
        return self._lower.get(q.lower())

    def structured(self, type_name: str) -> StructuredType:
        known = self._known(type_name)
        if known is None or known not in self.types:
            raise KeyError(f"no entity or complex type {type_name!r} in the CSDL")
        return self.types[known]

    def chain(self, type_name: str) -> list[StructuredType]:
        """The type and its base types, most derived first."""
        out: list[StructuredType] = []
        current: str | None = self.structured(type_name).name
        while current is not None:
            st = self.types[current]
            out.append(st)
            current = st.base
        return out

    def derives_from(self, type_name: str, base: str) -> bool:
        try:
            return any(t.name == self.structured(base).name for t in self.chain(type_name))
        except KeyError:
            return False

    def properties(self, type_name: str) -> dict[str, str]:
        """Structural properties, inherited ones included: name -> qualified type."""
        return {p.name: p.type for st in reversed(self.chain(type_name)) for p in st.props.values()}

    def navigation(self, type_name: str) -> dict[str, str]:
        return {p.name: p.type for st in reversed(self.chain(type_name)) for p in st.nav.values()}

    def _member(self, type_name: str, name: str) -> Prop | None:
        """A structural or navigation property, inherited included: exact name first, then any case."""
        members = [p for st in self.chain(type_name) for p in [*st.props.values(), *st.nav.values()]]
        exact = next((p for p in members if p.name == name), None)
        return exact or next((p for p in members if p.name.lower() == name.lower()), None)

    def is_open(self, type_name: str) -> bool:
        """Open if the type or a base type is declared open (OData: a type derived from an open type is open)."""
        return any(st.open for st in self.chain(type_name))

    # --- URL paths ----------------------------------------------------------------------------------
    def bound_operations(self, binding: str, name: str) -> list[Operation]:
        """Operations named ``name`` (short or qualified) bound to ``binding`` or to one of its base types."""
        element = _element_type(binding)
        candidates = [t.name for t in self.chain(element or binding)]
        bindings = [f"Collection({c})" for c in candidates] if element else candidates
        wanted = self.qualify(name) if "." in name else f"{GRAPH}.{name}"
        found = [op for b in bindings for op in self.operations.get(b, []) if op.name == wanted]
        if not found:
            found = [op for b in bindings for op in self.operations.get(b, []) if op.name.lower() == wanted.lower()]
        return found

    def resolve_path(self, path: str) -> str | None:
        parts = urlsplit(path)
        segments = [s for s in parts.path.split("/") if s]
        if segments and segments[0].lower() in ("v1.0", "beta"):
            segments = segments[1:]
        segments = _without_path_addressing(segments)
        if not segments:
            return None
        first, key = _split_parens(segments[0])
        roots = {**self.entity_sets, **self.singletons}
        current = roots.get(first) or next((t for n, t in roots.items() if n.lower() == first.lower()), None)
        if current is not None and key is not None:
            current = _element_type(current) or current
        for index, segment in enumerate(segments[1:], start=1):
            if current is None:
                return None
            current = self._step(current, segment, last=index == len(segments) - 1)
        return current

    def _step(self, current: str, segment: str, last: bool) -> str | None:
        if current == VOID or current.startswith("Edm.") or self.qualify(current) in self.enums:
            return None
        name, parens = _split_parens(segment)
        element = _element_type(current)
        if element is not None:
            if name == "$count":
                return "Edm.Int32"
            if "." in name and self._known(name) in self.types and self.derives_from(name, element):
                return f"Collection({self.structured(name).name})"
            ops = self.bound_operations(current, name)
            if ops:
                return self._operation_result(ops[0], last)
            return element  # a key segment
        if self._known(current) not in self.types:
            return None
        prop = self._member(current, name)
        if prop is not None:
            return (_element_type(prop.type) or prop.type) if parens is not None else prop.type
        if "." in name and self._known(name) in self.types and self.derives_from(name, current):
            return self.structured(name).name
        ops = self.bound_operations(current, name)
        if ops:
            return self._operation_result(ops[0], last)
        return None

    @staticmethod
    def _operation_result(op: Operation, last: bool) -> str | None:
        if op.returns is None:
            return VOID if last else None
        if not last and op.kind == "action":
            return None  # actions are not composable
        return op.returns

    # --- objects ----------------------------------------------------------------------------------
    def check_object(
        self,
        type_name: str,
        obj: Any,
        *,
        allow: Collection[str] = (),
        include_unknown_enum_members: bool = False,
        where: str = "",
    ) -> list[str]:
        """Problems of ``obj`` as a ``type_name``. ``allow``: undeclared properties accepted on open types,
        as ``"name"`` (anywhere), ``"typeName.name"``, or ``"typeName.*"`` (any: a property bag)."""
        problems: list[str] = []
        name = self.qualify(type_name)
        where = where or name.rpartition(".")[2]
        self._check_value(Prop("", name), obj, where, problems, frozenset(allow), include_unknown_enum_members)
        return problems

    def _check_structured(
        self, type_name: str, obj: Any, where: str, problems: list[str], allow: frozenset[str], unknown_ok: bool
    ) -> None:
        if not isinstance(obj, dict):
            problems.append(f"{where}: expected an object ({type_name}), got {type(obj).__name__}")
            return
        declared = self.structured(type_name).name
        odata_type = obj.get("@odata.type")
        if isinstance(odata_type, str):
            actual = self._known(odata_type)
            if actual is None or actual not in self.types or not self.derives_from(actual, declared):
                problems.append(f"{where}: @odata.type {odata_type!r} is not a {declared}")
                return
            declared = actual
        short = declared.rpartition(".")[2]
        open_type = self.is_open(declared)
        for key, value in obj.items():
            if key.startswith("@") or "@" in key:
                continue  # instance and property annotations (@odata.*, @removed, name@odata.nextLink)
            prop = self._member(declared, key)
            if prop is None:
                if open_type and (key in allow or f"{short}.{key}" in allow or f"{declared}.{key}" in allow
                                  or f"{short}.*" in allow):
                    continue
                kind = "open type" if open_type else "type"
                extra = " and not on the allowlist" if open_type else ""
                problems.append(f"{where}.{key}: not declared on {kind} {declared}{extra}")
                continue
            self._check_value(prop, value, f"{where}.{key}", problems, allow, unknown_ok)

    def _check_value(
        self, prop: Prop, value: Any, where: str, problems: list[str], allow: frozenset[str], unknown_ok: bool
    ) -> None:
        if value is None:
            if not prop.nullable:
                problems.append(f"{where}: null, but {prop.type} is declared Nullable=false")
            return
        element = _element_type(prop.type)
        if element is not None:
            if not isinstance(value, list):
                problems.append(f"{where}: expected a list ({prop.type}), got {type(value).__name__}")
            for i, item in enumerate(value if isinstance(value, list) else []):
                item_prop = Prop(prop.name, element, prop.nullable)
                self._check_value(item_prop, item, f"{where}[{i}]", problems, allow, unknown_ok)
            return
        type_name = prop.type
        if type_name.startswith("Edm."):
            if problem := _primitive_problem(type_name, value):
                problems.append(f"{where}: {problem}")
            return
        known = self._known(type_name)
        if known in self.enums:
            self._check_enum(self.enums[known], value, where, problems, unknown_ok)
        elif known in self.types:
            self._check_structured(known, value, where, problems, allow, unknown_ok)
        else:
            problems.append(f"{where}: type {type_name} is not in the CSDL")

    @staticmethod
    def _check_enum(enum: EnumType, value: Any, where: str, problems: list[str], unknown_ok: bool) -> None:
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string ({enum.name}), got {type(value).__name__}")
            return
        names = [v.strip() for v in value.split(",")] if enum.flags else [value]
        for name in names:
            if name not in enum.members:
                problems.append(f"{where}: {name!r} is not a member of {enum.name}")
            elif name in enum.evolvable_members() and not unknown_ok:
                problems.append(
                    f"{where}: {name!r} is an evolvable member of {enum.name} (past unknownFutureValue): "
                    "Graph sends it only on Prefer: include-unknown-enum-members"
                )


def _without_path_addressing(segments: list[str]) -> list[str]:
    """Path-based addressing (``/sites/{hostname}:/{server-relative-path}``, ``/root:/{path}:``): a key segment
    ending in ``:`` is followed by a path that ends at the next segment ending in ``:`` (or at the end). The
    path names the same entity the key would, so it is dropped."""
    out: list[str] = []
    in_path = False
    for index, segment in enumerate(segments):
        if in_path:
            in_path = not segment.endswith(":")
            continue
        out.append(segment)
        if index > 0 and segment.endswith(":") and len(segment) > 1:
            in_path = True
    return out


def _split_parens(segment: str) -> tuple[str, str | None]:
    """``delta(token='x')`` -> ("delta", "token='x'"); ``users('id')`` -> ("users", "'id'")."""
    if segment.endswith(")") and "(" in segment:
        name, _, rest = segment.partition("(")
        return name, rest[:-1]
    return segment, None


def _primitive_problem(type_name: str, value: Any) -> str | None:
    if type_name == "Edm.Boolean":
        return None if isinstance(value, bool) else f"expected a boolean ({type_name}), got {value!r}"
    if type_name in _INTEGERS:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected an integer ({type_name}), got {value!r}"
    if type_name in _NUMBERS:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"expected a number ({type_name}), got {value!r}"
    if type_name in _STRINGS:
        if not isinstance(value, str):
            return f"expected a string ({type_name}), got {value!r}"
        pattern = _FORMATS.get(type_name)
        if pattern is not None and not pattern.match(value):
            return f"{value!r} is not a valid {type_name}"
    return None  # Edm.Stream, Edm.Untyped, geography types: not checked


@functools.cache
def schema() -> Schema:
    """The parsed v1.0 CSDL, once per process (the file is 3 MB)."""
    return Schema()


def properties(type_name: str) -> dict[str, str]:
    return schema().properties(type_name)


def navigation(type_name: str) -> dict[str, str]:
    return schema().navigation(type_name)


def is_open(type_name: str) -> bool:
    return schema().is_open(type_name)


def resolve_path(path: str) -> str | None:
    return schema().resolve_path(path)


def check_object(
    type_name: str, obj: Any, *, allow: Iterable[str] = (), include_unknown_enum_members: bool = False
) -> list[str]:
    return schema().check_object(
        type_name, obj, allow=frozenset(allow), include_unknown_enum_members=include_unknown_enum_members
    )
