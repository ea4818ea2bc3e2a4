"""The OpenAI emulator refuses what the real Chat Completions API refuses, in its words.

Each rule of Structured Outputs strict mode, the model list, the token limits
and the scripted error answers, driven through the real ``openai`` SDK over
loopback where the HTTP shape matters and through the rule functions where
only the verdict does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal, cast

import openai
import pytest
from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import BaseModel, ConfigDict, Field

from voxcliente.acta.model import Acta
from voxlocal.emulators.openai_rules import (
    CHAT_COMPLETIONS_PARAMETERS,
    MAX_NESTING,
    MODELS,
    SNAPSHOTS,
    ModelSpec,
    check_request,
    resolve_model,
    strict_schema_problem,
)
from voxlocal.emulators.openai_server import OpenAIEmulator

MESSAGES: list[Any] = [
    {"role": "system", "content": "Write the minutes."},
    {"role": "user", "content": "A: Good morning. We agree to deliver every two weeks."},
]


@pytest.fixture
def emu() -> Iterator[OpenAIEmulator]:
    tiny = ModelSpec(context_window=1_000, max_output=300)
    windowed = ModelSpec(context_window=2_000, max_output=500, max_input=600)
    with OpenAIEmulator(models={**MODELS, "tiny-model": tiny, "windowed-model": windowed}) as e:
        yield e


def client_for(emu: OpenAIEmulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key, max_retries=0)


def strict(schema: dict[str, Any], name: str = "minutes") -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object schema as strict mode wants it: every key required, nothing else allowed."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        **extra,
    }


def error_of(caught: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    body = caught.value.body
    assert isinstance(body, dict)
    # the SDK hands over the "error" object of {"error": {...}}
    return body


# --- schemas strict mode accepts ---------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Step(_Strict):
    explanation: str
    output: str


class Reasoning(_Strict):
    steps: list[Step]
    final_answer: str
    kind: Literal["plan", "answer"] | None


def test_our_acta_schema_passes_every_strict_rule() -> None:
    # Given the response_format the SDK's parse() builds from the Acta model
    sent = cast(dict[str, Any], type_to_response_format_param(Acta))

    # Then strict mode takes its schema as it is
    assert sent["json_schema"]["strict"] is True
    assert strict_schema_problem(sent["json_schema"]["schema"]) is None
    body = {"model": "gpt-4.1-mini", "messages": MESSAGES, "response_format": sent}
    assert check_request({**body, "max_completion_tokens": 16_384}) is None


def test_parse_with_a_pydantic_model_is_answered(emu: OpenAIEmulator) -> None:
    completion = client_for(emu).chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Reasoning
    )
    assert isinstance(completion.choices[0].message.parsed, Reasoning)
    assert emu.rejections == []


@pytest.mark.parametrize(
    "schema",
    [
        # the guide's "Supported properties" example: nullable enum, number bounds
        obj(
            {
                "location": {"type": "string", "description": "Where"},
                "unit": {"type": ["string", "null"], "enum": ["F", "C"]},
                "value": {"type": "number", "minimum": -130, "maximum": 130},
            }
        ),
        # string pattern and format, number and array keywords the guide lists
        obj(
            {
                "username": {"type": "string", "pattern": "^@[a-zA-Z0-9_]+$"},
                "email": {"type": "string", "format": "email"},
                "when": {"type": "string", "format": "date-time"},
                "step": {"type": "integer", "multipleOf": 5, "exclusiveMinimum": 0},
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": 3,
                },
            }
        ),
        # definitions, and recursion through the root and through a definition
        obj(
            {
                "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
                "children": {"type": "array", "items": {"$ref": "#"}},
                "list": {"$ref": "#/$defs/node"},
            },
            **{
                "$defs": {
                    "step": obj({"explanation": {"type": "string"}}),
                    "node": obj(
                        {
                            "value": {"type": "number"},
                            "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                        }
                    ),
                }
            },
        ),
        # nested anyOf of objects, const, a title and a description on the root
        obj(
            {
                "item": {
                    "anyOf": [
                        obj({"name": {"type": "string"}, "age": {"type": "number"}}),
                        obj(
                            {"street": {"type": "string"}, "kind": {"type": "string", "const": "a"}}
                        ),
                    ]
                }
            },
            title="Item",
            description="An item",
        ),
        # an object with no properties at all
        obj({}),
    ],
    ids=[
        "nullable-enum-bounds",
        "supported-keywords",
        "defs-and-recursion",
        "nested-anyof",
        "empty",
    ],
)
def test_schemas_the_guide_shows_are_accepted(schema: dict[str, Any]) -> None:
    assert strict_schema_problem(schema) is None


def test_nesting_up_to_the_limit_is_accepted_and_one_more_is_refused() -> None:
    def nested(levels: int) -> dict[str, Any]:
        schema = obj({"leaf": {"type": "string"}})
        for _ in range(levels - 1):
            schema = obj({"child": schema})
        return schema

    assert strict_schema_problem(nested(MAX_NESTING)) is None
    assert (
        strict_schema_problem(nested(MAX_NESTING + 1))
        == "11 levels of nesting exceeds limit of 10."
    )


# --- schemas strict mode refuses, each with the real API's words ---------------------------

ROOT_ANYOF = {"anyOf": [obj({"a": {"type": "string"}}), obj({"b": {"type": "string"}})]}


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (ROOT_ANYOF, "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"None\"'."),
        (
            {"type": "array", "items": {"type": "string"}},
            "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'.",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            "In context=(), 'additionalProperties' is required to be supplied and to be false.",
        ),
        (
            obj({"a": {"type": "string"}}, additionalProperties=True),
            "In context=(), 'additionalProperties' is required to be supplied and to be false.",
        ),
        (
            obj(
                {
                    "tags": {
                        "type": "array",
                        "items": {"type": "object", "properties": {}, "required": []},
                    }
                }
            ),
            "In context=('properties', 'tags', 'items'), 'additionalProperties' is required to "
            "be supplied and to be false.",
        ),
        (
            {**obj({"a": {"type": "string"}, "b": {"type": "string"}}), "required": ["a"]},
            "In context=(), 'required' is required to be supplied and to be an array including "
            "every key in properties. Missing 'b'.",
        ),
        (
            {**obj({"a": {"type": "string"}}), "required": ["a", "z"]},
            "In context=(), 'required' is required to be supplied and to be an array including "
            "every key in properties. Extra required key 'z' supplied.",
        ),
        (
            obj({"name": {"type": "string", "minLength": 1}}),
            "In context=('properties', 'name'), 'minLength' is not permitted.",
        ),
        (
            obj({"name": {"type": "string", "maxLength": 80}}),
            "In context=('properties', 'name'), 'maxLength' is not permitted.",
        ),
        (
            obj({"status": {"type": "string", "default": "open"}}),
            "In context=('properties', 'status'), 'default' is not permitted.",
        ),
        (
            obj({"tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}}),
            "In context=('properties', 'tags'), 'uniqueItems' is not permitted.",
        ),
        (
            obj({"x": {"allOf": [{"type": "string"}]}}),
            "In context=('properties', 'x'), 'allOf' is not permitted.",
        ),
        (
            obj({"x": {"oneOf": [{"type": "string"}, {"type": "null"}]}}),
            "In context=('properties', 'x'), 'oneOf' is not permitted.",
        ),
        (
            obj({"x": {"type": "string", "not": {"const": "a"}}}),
            "In context=('properties', 'x'), 'not' is not permitted.",
        ),
        (
            obj({"kind": {"const": "fact"}}),
            "In context=('properties', 'kind'), schema must have a 'type' key.",
        ),
        (
            obj({"link": {"type": "string", "format": "uri"}}),
            "In context=('properties', 'link'), 'uri' is not a valid format.",
        ),
        (
            obj({"tags": {"type": "array"}}),
            "In context=('properties', 'tags'), array schema missing items.",
        ),
        (
            obj({"next": {"anyOf": [{"type": "object", "properties": {}}, {"type": "null"}]}}),
            "In context=('properties', 'next', 'anyOf', '0'), 'additionalProperties' is required "
            "to be supplied and to be false.",
        ),
        (
            obj(
                {"step": {"$ref": "#/$defs/Step", "description": "one step"}},
                **{"$defs": {"Step": obj({"a": {"type": "string"}})}},
            ),
            "In context=('properties', 'step'), $ref cannot have keywords {'description'}.",
        ),
        (
            obj({"step": {"$ref": "#/$defs/Missing"}}),
            "In context=('properties', 'step'), reference to component '#/$defs/Missing' which "
            "was not found in the schema.",
        ),
        (
            obj(
                {"step": {"$ref": "#/$defs/Step"}},
                **{"$defs": {"Step": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            ),
            "In context=('$defs', 'Step'), 'additionalProperties' is required to be supplied and "
            "to be false.",
        ),
        (
            obj({"a": {"type": "string", "$schema": "https://json-schema.org/draft/2020-12"}}),
            "In context=('properties', 'a'), '$schema' is not permitted.",
        ),
    ],
    ids=[
        "root-anyof",
        "root-array",
        "no-additional-properties",
        "additional-properties-true",
        "nested-object-in-items",
        "property-not-required",
        "extra-required-key",
        "minLength",
        "maxLength",
        "default",
        "uniqueItems",
        "allOf",
        "oneOf",
        "not",
        "no-type",
        "unsupported-format",
        "array-without-items",
        "anyof-branch",
        "ref-with-siblings",
        "ref-not-found",
        "definition",
        "nested-dollar-schema",
    ],
)
def test_each_unsupported_shape_is_refused_in_the_real_words(
    schema: dict[str, Any], problem: str
) -> None:
    assert strict_schema_problem(schema) == problem


def test_size_limits_of_the_guide() -> None:
    many = obj({f"p{i}": {"type": "string"} for i in range(5_001)})
    assert strict_schema_problem(many) == "5001 parameters exceeds limit of 5000."

    enums = obj({f"e{i}": {"type": "string", "enum": ["a", "b", "c", "d"]} for i in range(251)})
    assert strict_schema_problem(enums) == "1004 enum values exceeds limit of 1000."

    big_enum = obj(
        {"code": {"type": "string", "enum": [f"{i:03d}" + "x" * 60 for i in range(251)]}}
    )
    refused = strict_schema_problem(big_enum)
    assert refused is not None and "exceeds limit of 15000" in refused

    long_names = obj({"n" * 1_000 + str(i): {"type": "string"} for i in range(121)})
    refused = strict_schema_problem(long_names)
    assert refused is not None and refused.endswith("exceeds limit of 120000.")


def test_strict_false_is_not_held_to_strict_mode() -> None:
    loose = {"type": "object", "properties": {"a": {"type": "string", "minLength": 1}}}
    body = {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "loose", "strict": False, "schema": loose},
        },
    }
    assert check_request(body) is None


# --- the HTTP answer: 400 invalid_json_schema through the SDK ------------------------------


class WithBounds(_Strict):
    name: str = Field(min_length=1)


class WithDefault(_Strict):
    status: str = "open"


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        (WithBounds, "In context=('properties', 'name'), 'minLength' is not permitted."),
        (WithDefault, "In context=('properties', 'status'), 'default' is not permitted."),
    ],
)
def test_a_pydantic_model_strict_mode_refuses_is_a_400_with_the_real_body(
    emu: OpenAIEmulator, model: type[BaseModel], problem: str
) -> None:
    # Given a script that would otherwise answer a refusal
    emu.script("refusal")

    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=model
        )

    assert caught.value.status_code == 400
    assert error_of(caught) == {
        "message": f"Invalid schema for response_format '{model.__name__}': {problem}",
        "type": "invalid_request_error",
        "param": "response_format",
        "code": "invalid_json_schema",
    }
    # the rejected request is recorded and did not consume the scripted outcome
    assert len(emu.requests) == len(emu.rejections) == 1
    answer = client_for(emu).chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Reasoning
    )
    assert answer.choices[0].message.refusal


def test_a_raw_root_anyof_schema_is_a_400(emu: OpenAIEmulator) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            extra_body={"response_format": strict(ROOT_ANYOF, name="final_schema")},
        )
    assert error_of(caught)["message"] == (
        "Invalid schema for response_format 'final_schema': schema must be a JSON Schema of "
        "'type: \"object\"', got 'type: \"None\"'."
    )


@pytest.mark.parametrize(
    ("response_format", "param", "code", "message"),
    [
        (
            {"type": "json_schema", "json_schema": {"name": "my minutes", "schema": obj({})}},
            "response_format.json_schema.name",
            "invalid_value",
            "Invalid 'response_format.json_schema.name': string does not match pattern. "
            "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
        ),
        (
            {"type": "json_schema", "json_schema": {"schema": obj({})}},
            "response_format.json_schema.name",
            "missing_required_parameter",
            "Missing required parameter: 'response_format.json_schema.name'.",
        ),
        (
            {"type": "json_object"},
            "messages",
            None,
            "'messages' must contain the word 'json' in some form, to use 'response_format' of "
            "type 'json_object'.",
        ),
        (
            {"type": "xml"},
            "response_format.type",
            "invalid_value",
            "Invalid value: 'xml'. Supported values are: 'text', 'json_object', and 'json_schema'.",
        ),
    ],
    ids=["name-pattern", "name-missing", "json-object-without-json", "unknown-type"],
)
def test_response_format_parameters(
    emu: OpenAIEmulator, response_format: dict[str, Any], param: str, code: str | None, message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            extra_body={"response_format": response_format},
        )
    assert error_of(caught) == {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": code,
    }


# --- models --------------------------------------------------------------------------------


def test_an_unknown_model_is_a_404_model_not_found(emu: OpenAIEmulator) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client_for(emu).chat.completions.create(model="gpt-4.2-mini", messages=MESSAGES)
    assert caught.value.status_code == 404
    assert error_of(caught) == {
        "message": "The model `gpt-4.2-mini` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


@pytest.mark.parametrize(
    "model",
    ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "gpt-5", "gpt-5-mini"],
)
def test_known_models_are_answered_and_the_answer_says_emulator(
    emu: OpenAIEmulator, model: str
) -> None:
    completion = client_for(emu).chat.completions.create(model=model, messages=MESSAGES)
    # the request's model is checked; the answer names who wrote it
    assert completion.model == "emulator"
    assert emu.rejections == []


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("gpt-4o-mini-2024-07-18", MODELS["gpt-4o-mini"]),
        ("gpt-4.1-2025-04-14", MODELS["gpt-4.1"]),
        ("gpt-5-2025-08-07", MODELS["gpt-5"]),
        ("gpt-4o-mini-latest", None),
        ("gpt-9-2025-01-01", None),
        # a real alias with a date OpenAI never published is not a model
        ("gpt-4o-mini-2099-01-01", None),
        ("gpt-4.1-mini-2025-04-15", None),
    ],
)
def test_only_listed_dated_snapshots_resolve_to_their_alias(
    name: str, spec: ModelSpec | None
) -> None:
    assert resolve_model(name) == spec


def test_a_made_up_snapshot_is_a_404(emu: OpenAIEmulator) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client_for(emu).chat.completions.create(model="gpt-4.1-mini-2031-01-01", messages=MESSAGES)
    assert error_of(caught)["code"] == "model_not_found"


def test_every_model_and_snapshot_is_a_real_openai_model_name() -> None:
    """The names the double accepts are in the ChatModel enum of OpenAI's API spec,
    as the installed SDK (generated from it) carries it."""
    from typing import get_args

    from openai.types.shared.chat_model import ChatModel

    real = set(get_args(ChatModel))
    assert set(MODELS) <= real
    assert set(SNAPSHOTS) <= real
    assert {alias for alias, _ in SNAPSHOTS.values()} <= set(MODELS)


def test_the_accepted_arguments_are_exactly_the_chat_completions_parameters() -> None:
    from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

    assert set(CompletionCreateParamsStreaming.__annotations__) == CHAT_COMPLETIONS_PARAMETERS


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"top_k": 5}, "Unrecognized request argument supplied: top_k"),
        (
            {"thinking": True, "enable_thinking": True},
            "Unrecognized request arguments supplied: enable_thinking, thinking",
        ),
    ],
)
def test_an_unknown_top_level_argument_is_a_400(
    emu: OpenAIEmulator, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(
            model="gpt-4.1-mini", messages=MESSAGES, extra_body=extra
        )
    assert error_of(caught) == {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert len(emu.rejections) == 1


def test_a_missing_model_is_a_400(emu: OpenAIEmulator) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(messages=MESSAGES, model="")
    assert error_of(caught)["message"] == "you must provide a model parameter"


# --- token limits --------------------------------------------------------------------------


@pytest.mark.parametrize("parameter", ["max_completion_tokens", "max_tokens"])
def test_an_output_allowance_above_the_models_limit_is_refused(
    emu: OpenAIEmulator, parameter: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, extra_body={parameter: 64_000}
        )
    assert error_of(caught) == {
        "message": "max_tokens is too large: 64000. This model supports at most 16384 "
        "completion tokens, whereas you provided 64000.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "invalid_value",
    }


def test_output_allowances_within_the_limit_are_taken(emu: OpenAIEmulator) -> None:
    client = client_for(emu)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=16_384)
    client.chat.completions.create(
        model="gpt-4.1-mini", messages=MESSAGES, max_completion_tokens=32_768
    )
    assert emu.rejections == []


def test_max_tokens_on_a_reasoning_model_and_a_zero_allowance_are_refused(
    emu: OpenAIEmulator,
) -> None:
    client = client_for(emu)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-5-mini", messages=MESSAGES, max_tokens=1_000)
    assert error_of(caught)["code"] == "unsupported_parameter"
    assert "Use 'max_completion_tokens' instead." in error_of(caught)["message"]

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, max_completion_tokens=0
        )
    assert error_of(caught)["code"] == "integer_below_min_value"


def _long_messages(characters: int) -> list[Any]:
    return [{"role": "user", "content": "x" * characters}]


def test_messages_over_the_context_window_are_context_length_exceeded(emu: OpenAIEmulator) -> None:
    # Given "tiny-model": a 1,000-token window; about 4 characters per token
    messages = _long_messages(4_400)
    tokens = len(json.dumps(messages)) // 4

    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(model="tiny-model", messages=messages)

    assert error_of(caught) == {
        "message": f"This model's maximum context length is 1000 tokens. However, your messages "
        f"resulted in {tokens} tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }


def test_messages_plus_the_requested_output_over_the_window_are_refused(
    emu: OpenAIEmulator,
) -> None:
    messages = _long_messages(3_000)
    tokens = len(json.dumps(messages)) // 4

    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(
            model="tiny-model", messages=messages, max_completion_tokens=300
        )

    assert error_of(caught)["code"] == "context_length_exceeded"
    assert error_of(caught)["message"] == (
        f"This model's maximum context length is 1000 tokens. However, you requested "
        f"{tokens + 300} tokens ({tokens} in the messages, 300 in the completion). Please reduce "
        "the length of the messages or completion."
    )
    # the same messages with a smaller allowance fit
    client_for(emu).chat.completions.create(
        model="tiny-model", messages=messages, max_completion_tokens=200
    )


def test_an_input_limit_below_the_window_has_its_own_words(emu: OpenAIEmulator) -> None:
    # Given "windowed-model": input limited to 600 tokens in a 2,000-token window (like gpt-5)
    messages = _long_messages(3_000)
    tokens = len(json.dumps(messages)) // 4

    with pytest.raises(openai.BadRequestError) as caught:
        client_for(emu).chat.completions.create(model="windowed-model", messages=messages)

    assert error_of(caught)["message"] == (
        f"Input tokens exceed the configured limit of 600 tokens. Your messages resulted in "
        f"{tokens} tokens. Please reduce the length of the messages."
    )
    assert error_of(caught)["code"] == "context_length_exceeded"


# --- scripted answers ----------------------------------------------------------------------


def test_scripted_content_filter_finish(emu: OpenAIEmulator) -> None:
    emu.script("content_filter", "content_filter")
    client = client_for(emu)

    with pytest.raises(openai.ContentFilterFinishReasonError):
        client.chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Reasoning
        )
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert plain.choices[0].finish_reason == "content_filter"
    assert plain.choices[0].message.content is None


def test_scripted_refusal_and_length(emu: OpenAIEmulator) -> None:
    emu.script("refusal", "length")
    client = client_for(emu)

    refused = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert refused.choices[0].message.refusal
    assert refused.choices[0].message.content is None
    cut = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, max_completion_tokens=50
    )
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens == 50


def test_scripted_rate_limit_carries_retry_after_and_rate_limit_headers(
    emu: OpenAIEmulator,
) -> None:
    emu.script(("rate_limit", 0.25), "rate_limit")
    client = client_for(emu)

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    headers = caught.value.response.headers
    assert headers["retry-after"] == "0.25"
    assert headers["x-ratelimit-remaining-tokens"] == "0"
    assert headers["x-ratelimit-reset-tokens"] == "0.25s"
    assert {"x-ratelimit-limit-requests", "x-ratelimit-limit-tokens"} <= set(headers)
    assert error_of(caught)["type"] == "tokens"
    assert error_of(caught)["code"] == "rate_limit_exceeded"
    assert "Please try again in 0.25s." in error_of(caught)["message"]

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.response.headers["retry-after"] == "2"


def test_scripted_insufficient_quota_has_no_retry_after(emu: OpenAIEmulator) -> None:
    emu.script("insufficient_quota")
    with pytest.raises(openai.RateLimitError) as caught:
        client_for(emu).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert error_of(caught)["type"] == error_of(caught)["code"] == "insufficient_quota"
    assert "retry-after" not in caught.value.response.headers


@pytest.mark.parametrize(
    ("outcome", "status", "error", "words"),
    [
        ("server_error", 500, openai.InternalServerError, "The server had an error"),
        ("overloaded", 503, openai.InternalServerError, "The engine is currently overloaded"),
        ("model_not_found", 404, openai.NotFoundError, "does not exist or you do not have access"),
        ("context_length", 400, openai.BadRequestError, "maximum context length is 128000 tokens"),
    ],
)
def test_scripted_error_answers(
    emu: OpenAIEmulator,
    outcome: str,
    status: int,
    error: type[openai.APIStatusError],
    words: str,
) -> None:
    emu.script(outcome)
    with pytest.raises(error) as caught:
        client_for(emu).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.status_code == status
    assert words in error_of(caught)["message"]
    assert set(error_of(caught)) == {"message", "type", "param", "code"}


def test_a_500_names_the_request_id_it_was_sent_with(emu: OpenAIEmulator) -> None:
    emu.script("server_error")
    with pytest.raises(openai.InternalServerError) as caught:
        client_for(emu).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    request_id = caught.value.response.headers["x-request-id"]
    assert f"(Please include the request ID {request_id} in your message.)" in str(
        error_of(caught)["message"]
    )


@pytest.mark.parametrize(
    "outcome", ["explode", ("refusal", 1.0), ("rate_limit", 1.0, 2.0), "delay"]
)
def test_malformed_script_entries_are_refused(emu: OpenAIEmulator, outcome: Any) -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        emu.script(outcome)
