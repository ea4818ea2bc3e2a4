"""Structured Outputs strict mode, as the real API checks a ``json_schema``
``response_format`` (for the emulator): :func:`strict_schema_problem`.

Sources. The schema rules are the Structured Outputs guide's "Supported
schemas" section (platform.openai.com/docs/guides/structured-outputs, as
mirrored in public repositories in 2025): supported types string, number,
boolean, integer, object, array, enum, anyOf; supported keywords ``pattern``,
``format`` (date-time, time, date, duration, email, hostname, ipv4, ipv6,
uuid), ``multipleOf``, ``maximum``, ``exclusiveMaximum``, ``minimum``,
``exclusiveMinimum``, ``minItems``, ``maxItems``; "Root objects must not be
anyOf and must be an object"; "All fields must be required";
"additionalProperties: false must always be set in objects"; "A schema may have
up to 5000 object properties total, with up to 10 levels of nesting"; "total
string length of all property names, definition names, enum values, and const
values cannot exceed 120,000 characters"; "up to 1000 enum values across all
enum properties"; "For a single enum property with string values, the total
string length of all enum values cannot exceed 15,000 characters when there are
more than 250 enum values"; definitions (``$defs``) and recursion (``$ref``)
are supported; ``allOf``, ``not``, ``dependentRequired``, ``dependentSchemas``,
``if``/``then``/``else`` are not. Keywords the guide does not list are refused
(it says: "call the API with an unsupported JSON Schema, you will receive an
error"); refusals reported against the real API include ``minLength``,
``uniqueItems`` and ``default`` ("... 'minLength' is not permitted.").

The messages are the ones the real API has been reported to send (400,
``invalid_request_error``, param ``response_format``, code
``invalid_json_schema``): "Invalid schema for response_format 'X': In
context=('properties', 'a'), 'additionalProperties' is required to be supplied
and to be false.", "... 'required' is required to be supplied and to be an
array including every key in properties. Missing 'b'.", "... schema must be a
JSON Schema of 'type: \\"object\\"', got 'type: \\"None\\"'.", "... schema must
have a 'type' key.", "... 'uri' is not a valid format.", "... array schema
missing items.", "... 14 levels of nesting exceeds limit of 10.", "... 6000
parameters exceeds limit of 5000.". The wording of the string-size and enum
limits is not published; those messages follow the same pattern.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# --- Structured Outputs, strict mode --------------------------------------------------

MAX_OBJECT_PROPERTIES = 5_000
MAX_NESTING = 10
MAX_TOTAL_STRING_LENGTH = 120_000
MAX_ENUM_VALUES = 1_000
LARGE_ENUM = 250  # values in one string enum above which its total length is limited
MAX_LARGE_ENUM_STRING_LENGTH = 15_000

TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
KEYWORDS = frozenset(
    {
        # structure
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "definitions",
        # annotations
        "title",
        "description",
        # the guide's "Supported properties"
        "pattern",
        "format",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "minItems",
        "maxItems",
    }
)
ROOT_KEYWORDS = frozenset({"$schema", "$id"})

Context = tuple[str, ...]


class _Refused(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _at(context: Context, problem: str) -> _Refused:
    return _Refused(f"In context={context!r}, {problem}")


def strict_schema_problem(schema: dict[str, Any]) -> str | None:
    """Why strict mode refuses this schema (the part after "Invalid schema for ...: "), or None."""
    root_type = schema.get("type")
    if root_type != "object":  # a root anyOf (a union of models) has no type
        shown = "None" if root_type is None else str(root_type)
        return f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{shown}\"'."
    if "anyOf" in schema:
        return "In context=(), 'anyOf' is not permitted at the root of the schema."
    try:
        _check_node(schema, (), schema, root=True)
        _check_depth(schema)
        _check_sizes(schema)
    except _Refused as refused:
        return refused.problem
    return None


def _definitions(node: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for container in ("$defs", "definitions"):
        defs = node.get(container)
        if isinstance(defs, dict):
            for name, definition in defs.items():
                yield container, name, definition


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target


def _check_node(
    node: Any, context: Context, document: dict[str, Any], *, root: bool = False
) -> None:
    """One schema and everything literally inside it; raises _Refused at the first problem."""
    if not isinstance(node, dict):
        raise _at(context, "schema must be a JSON Schema object.")
    allowed = KEYWORDS | ROOT_KEYWORDS if root else KEYWORDS
    for keyword in node:
        if keyword not in allowed:
            raise _at(context, f"'{keyword}' is not permitted.")
    if "$ref" in node:
        _check_ref(node, context, document)
    elif "anyOf" in node:
        variants = node["anyOf"]
        if not isinstance(variants, list) or not variants:
            raise _at(context, "'anyOf' must be a non-empty array of schemas.")
        for index, variant in enumerate(variants):
            _check_node(variant, (*context, "anyOf", str(index)), document)
    else:
        _check_typed(node, context, document)


def _check_ref(node: dict[str, Any], context: Context, document: dict[str, Any]) -> None:
    siblings = sorted(set(node) - {"$ref"})
    if siblings:
        raise _at(context, f"$ref cannot have keywords {{{', '.join(map(repr, siblings))}}}.")
    ref = node["$ref"]
    if not isinstance(ref, str) or not isinstance(_resolve(ref, document), dict):
        raise _at(context, f"reference to component '{ref}' which was not found in the schema.")


def _check_typed(node: dict[str, Any], context: Context, document: dict[str, Any]) -> None:
    if "type" not in node:
        raise _at(context, "schema must have a 'type' key.")
    types = node["type"] if isinstance(node["type"], list) else [node["type"]]
    for one in types:
        if one not in TYPES:
            raise _at(context, f"'{one}' is not a valid type.")
    if "object" in types:
        _check_object(node, context)
    if "array" in types:
        items = node.get("items")
        if items is None:
            raise _at(context, "array schema missing items.")
        _check_node(items, (*context, "items"), document)
    schema_format = node.get("format")
    if schema_format is not None and schema_format not in FORMATS:
        raise _at(context, f"{schema_format!r} is not a valid format.")
    if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
        raise _at(context, "'enum' must be a non-empty array.")
    for name, child in (node.get("properties") or {}).items():
        _check_node(child, (*context, "properties", name), document)
    for container, name, definition in _definitions(node):
        _check_node(definition, (*context, container, name), document)


def _check_object(node: dict[str, Any], context: Context) -> None:
    if node.get("additionalProperties") is not False:
        raise _at(context, "'additionalProperties' is required to be supplied and to be false.")
    properties = node.get("properties") or {}
    if not isinstance(properties, dict):
        raise _at(context, "'properties' must be an object.")
    required = node.get("required") or []
    every_key = (
        "'required' is required to be supplied and to be an array including every key in "
        "properties."
    )
    if not isinstance(required, list):
        raise _at(context, every_key)
    for key in properties:
        if key not in required:
            raise _at(context, f"{every_key} Missing '{key}'.")
    for key in required:
        if key not in properties:
            raise _at(context, f"{every_key} Extra required key '{key}' supplied.")


def _check_depth(root: dict[str, Any]) -> None:
    depth = _depth(root, root, ())
    if depth > MAX_NESTING:
        raise _Refused(f"{depth} levels of nesting exceeds limit of {MAX_NESTING}.")


def _depth(node: Any, document: dict[str, Any], following: tuple[str, ...]) -> int:
    """Levels of nesting: objects and arrays on the deepest path, the root object being 1.

    ``$ref`` is followed (a definition nests where it is used); a reference back
    into the path being walked is recursion, which strict mode supports, and is
    not followed again.
    """
    if not isinstance(node, dict):
        return 0
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in following:
            return 0
        return _depth(_resolve(ref, document), document, (*following, ref))
    below = 0
    for variant in node.get("anyOf") or []:
        below = max(below, _depth(variant, document, following))
    declared = node.get("type")
    types: list[Any] = declared if isinstance(declared, list) else [declared]
    if "object" not in types and "array" not in types:
        return below
    children = list((node.get("properties") or {}).values())
    if isinstance(node.get("items"), dict):
        children.append(node["items"])
    for child in children:
        below = max(below, _depth(child, document, following))
    return 1 + below


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema literally present (definitions included), each once."""
    if not isinstance(node, dict):
        return
    yield node
    for child in (node.get("properties") or {}).values():
        yield from _walk(child)
    yield from _walk(node.get("items"))
    for variant in node.get("anyOf") or []:
        yield from _walk(variant)
    for container in ("$defs", "definitions"):
        for definition in (node.get(container) or {}).values():
            yield from _walk(definition)


def _check_sizes(root: dict[str, Any]) -> None:
    properties = 0
    strings = 0
    enum_values = 0
    for node in _walk(root):
        names = node.get("properties") or {}
        properties += len(names)
        strings += sum(len(name) for name in names)
        for container in ("$defs", "definitions"):
            strings += sum(len(name) for name in node.get(container) or {})
        values = node.get("enum") or []
        enum_values += len(values)
        texts = [v for v in values if isinstance(v, str)]
        strings += sum(len(v) for v in texts)
        if isinstance(node.get("const"), str):
            strings += len(node["const"])
        enum_length = sum(len(v) for v in texts)
        if len(texts) > LARGE_ENUM and enum_length > MAX_LARGE_ENUM_STRING_LENGTH:
            raise _Refused(
                f"An enum of {len(texts)} string values with total length {enum_length} "
                f"exceeds limit of {MAX_LARGE_ENUM_STRING_LENGTH} (for enums with more than "
                f"{LARGE_ENUM} values)."
            )
    if properties > MAX_OBJECT_PROPERTIES:
        raise _Refused(f"{properties} parameters exceeds limit of {MAX_OBJECT_PROPERTIES}.")
    if enum_values > MAX_ENUM_VALUES:
        raise _Refused(f"{enum_values} enum values exceeds limit of {MAX_ENUM_VALUES}.")
    if strings > MAX_TOTAL_STRING_LENGTH:
        raise _Refused(
            f"Total string length of property names, definition names, enum values and const "
            f"values ({strings}) exceeds limit of {MAX_TOTAL_STRING_LENGTH}."
        )
