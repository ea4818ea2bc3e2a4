"""What the real Chat Completions API refuses, and in which words (for the emulator).

The OpenAI emulator runs every ``POST /v1/chat/completions`` through
:func:`check_request` before it answers, so a request the real API would reject
is rejected here too, with the real status, body shape (``{"error": {message,
type, param, code}}``) and wording as far as it is published or reported:

* the model: known names and their dated snapshots (``gpt-4o-mini-2024-07-18``),
  anything else 404 ``model_not_found``;
* the output allowance: ``max_completion_tokens`` / ``max_tokens`` above the
  model's output limit, below 1, or ``max_tokens`` on a reasoning model;
* ``response_format``: its type, ``json_schema.name``, the word "json" that
  ``json_object`` mode needs, and every Structured Outputs rule of strict mode
  (:func:`strict_schema_problem`);
* the context window: prompt (about 4 characters per token, as the emulator's
  usage counts it) over the model's input limit, or prompt plus requested
  output over its context window: 400 ``context_length_exceeded``.

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
limits is not published; those messages follow the same pattern. Model and
token messages: "The model `x` does not exist or you do not have access to
it." (404 ``model_not_found``); "max_tokens is too large: 64000. This model
supports at most 16384 completion tokens, whereas you provided 64000."
(``invalid_value``); "This model's maximum context length is 128000 tokens.
However, your messages resulted in 130000 tokens. Please reduce the length of
the messages."; "Input tokens exceed the configured limit of 272000 tokens.
Your messages resulted in 300007 tokens. Please reduce the length of the
messages." (``context_length_exceeded``, param ``messages``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# --- models ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """A model's published limits, in tokens."""

    context_window: int
    max_output: int
    max_input: int | None = None  # below the context window for the gpt-5 family
    reasoning: bool = False  # reasoning models refuse ``max_tokens``

    @property
    def input_limit(self) -> int:
        return self.max_input if self.max_input is not None else self.context_window


_GPT_41 = ModelSpec(context_window=1_047_576, max_output=32_768)
_GPT_4O = ModelSpec(context_window=128_000, max_output=16_384)
_GPT_5 = ModelSpec(context_window=400_000, max_output=128_000, max_input=272_000, reasoning=True)
_CHAT_LATEST = ModelSpec(context_window=128_000, max_output=16_384)
_O_SERIES = ModelSpec(context_window=200_000, max_output=100_000, reasoning=True)

# The models pages' context windows and maximum output tokens.
MODELS: dict[str, ModelSpec] = {
    "gpt-4.1": _GPT_41,
    "gpt-4.1-mini": _GPT_41,
    "gpt-4.1-nano": _GPT_41,
    "gpt-4o": _GPT_4O,
    "gpt-4o-mini": _GPT_4O,
    "gpt-5": _GPT_5,
    "gpt-5-mini": _GPT_5,
    "gpt-5-nano": _GPT_5,
    "gpt-5-chat-latest": _CHAT_LATEST,
    "gpt-5.1": _GPT_5,
    "gpt-5.1-chat-latest": _CHAT_LATEST,
    "o3": _O_SERIES,
    "o4-mini": _O_SERIES,
}
_SNAPSHOT = re.compile(r"^(?P<alias>.+)-\d{4}-\d{2}-\d{2}$")


def resolve_model(name: str, models: Mapping[str, ModelSpec] = MODELS) -> ModelSpec | None:
    """The spec of a model name or of a dated snapshot of one (``gpt-4.1-2025-04-14``)."""
    if name in models:
        return models[name]
    snapshot = _SNAPSHOT.match(name)
    if snapshot is not None:
        return models.get(snapshot.group("alias"))
    return None


# --- the error answer -------------------------------------------------------------------


@dataclass(frozen=True)
class ApiError:
    """One error answer: HTTP status, the ``error`` object, extra headers."""

    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid(message: str, param: str | None, code: str | None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", code, param)


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    )


def context_length_exceeded(
    spec: ModelSpec, prompt_tokens: int, completion: int | None
) -> ApiError:
    """The real message for a prompt over the input limit, or prompt + output over the window."""
    if prompt_tokens > spec.input_limit:
        if spec.input_limit < spec.context_window:
            message = (
                f"Input tokens exceed the configured limit of {spec.input_limit} tokens. "
                f"Your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages."
            )
        else:
            message = (
                f"This model's maximum context length is {spec.context_window} tokens. "
                f"However, your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages."
            )
    else:
        requested = prompt_tokens + (completion or 0)
        message = (
            f"This model's maximum context length is {spec.context_window} tokens. "
            f"However, you requested {requested} tokens ({prompt_tokens} in the messages, "
            f"{completion} in the completion). Please reduce the length of the messages or "
            "completion."
        )
    return invalid(message, "messages", "context_length_exceeded")


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """About 4 characters per token over the messages (the emulator's usage counts the same)."""
    text = json.dumps(body.get("messages"), ensure_ascii=False)
    return max(1, len(text) // 4)


# --- the request ----------------------------------------------------------------------


def check_request(
    body: Mapping[str, Any], models: Mapping[str, ModelSpec] = MODELS
) -> ApiError | None:
    """The error the real API answers to this chat.completions body, or None if it takes it."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return invalid("you must provide a model parameter", None, None)
    spec = resolve_model(model, models)
    if spec is None:
        return model_not_found(model)
    error = _check_max_tokens(body, spec)
    if error is None:
        error = check_response_format(body)
    if error is not None:
        return error
    tokens = prompt_tokens(body)
    completion = _completion_allowance(body)
    if tokens > spec.input_limit or tokens + (completion or 0) > spec.context_window:
        return context_length_exceeded(spec, tokens, completion)
    return None


def _completion_allowance(body: Mapping[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _check_max_tokens(body: Mapping[str, Any], spec: ModelSpec) -> ApiError | None:
    if spec.reasoning and body.get("max_tokens") is not None:
        return invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            return invalid(
                f"Invalid type for '{name}': expected an integer, but got "
                f"{type(value).__name__} instead.",
                name,
                "invalid_type",
            )
        if value < 1:
            return invalid(
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, "
                f"but got {value} instead.",
                name,
                "integer_below_min_value",
            )
        if value > spec.max_output:
            # The real API words (and names the param) as max_tokens for either parameter.
            return invalid(
                f"max_tokens is too large: {value}. This model supports at most "
                f"{spec.max_output} completion tokens, whereas you provided {value}.",
                "max_tokens",
                "invalid_value",
            )
    return None


# --- response_format ----------------------------------------------------------------

_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")


def check_response_format(body: Mapping[str, Any]) -> ApiError | None:
    response_format = body.get("response_format")
    if response_format is None:
        return None
    if not isinstance(response_format, dict):
        return invalid(
            f"Invalid type for 'response_format': expected an object, but got "
            f"{type(response_format).__name__} instead.",
            "response_format",
            "invalid_type",
        )
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        if "json" not in json.dumps(body.get("messages"), ensure_ascii=False).lower():
            return invalid(
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'.",
                "messages",
                None,
            )
        return None
    if kind != "json_schema":
        return invalid(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and "
            "'json_schema'.",
            "response_format.type",
            "invalid_value",
        )
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        return invalid(
            "Missing required parameter: 'response_format.json_schema'.",
            "response_format.json_schema",
            "missing_required_parameter",
        )
    name = spec.get("name")
    if not isinstance(name, str):
        return invalid(
            "Missing required parameter: 'response_format.json_schema.name'.",
            "response_format.json_schema.name",
            "missing_required_parameter",
        )
    if len(name) > 64:
        return invalid(
            "Invalid 'response_format.json_schema.name': string too long. Expected a string "
            f"with maximum length 64, but got a string with length {len(name)} instead.",
            "response_format.json_schema.name",
            "string_above_max_length",
        )
    if not _NAME.match(name):
        return invalid(
            "Invalid 'response_format.json_schema.name': string does not match pattern. "
            "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            "response_format.json_schema.name",
            "invalid_value",
        )
    schema = spec.get("schema")
    if spec.get("strict") is True:
        problem = strict_schema_problem(schema if isinstance(schema, dict) else {})
        if problem is not None:
            return invalid(
                f"Invalid schema for response_format '{name}': {problem}",
                "response_format",
                "invalid_json_schema",
            )
    return None


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
