"""Settings: read once from the environment, validated, secrets from Secrets Manager."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto import mock_aws

from voxcliente.domain.errors import ConfigurationError
from voxcliente.settings import load_settings


def test_defaults_need_nothing() -> None:
    settings = load_settings({})
    assert settings.acta_language == "es"
    assert settings.assemblyai_speech_models == ("universal-2",)
    assert settings.db_statement_timeout_ms == 15_000


def test_lists_are_comma_separated() -> None:
    settings = load_settings(
        {
            "WEB_ORIGINS": "https://a.example, https://b.example",
            "ASSEMBLYAI_SPEECH_MODELS": "universal-3-5-pro, universal-2",
        }
    )
    assert settings.web_origins == ("https://a.example", "https://b.example")
    assert settings.assemblyai_speech_models == ("universal-3-5-pro", "universal-2")


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({"DB_STATEMENT_TIMEOUT_MS": "soon", "DB_SSLMODE": "maybe"})
    message = str(info.value)
    assert "DB_STATEMENT_TIMEOUT_MS" in message and "DB_SSLMODE" in message
    assert "'soon'" in message


def test_a_missing_secret_names_both_ways_to_give_it() -> None:
    with pytest.raises(ConfigurationError, match=r"OPENAI_API_KEY.*OPENAI_SECRET_ID"):
        load_settings({}).get_openai_api_key()
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load_settings({}).get_database_conninfo()


def test_require_lists_every_missing_setting() -> None:
    with pytest.raises(ConfigurationError, match="AUDIO_BUCKET, ACTA_QUEUE_URL"):
        load_settings({}).require("audio_bucket", "acta_queue_url")


def test_a_price_table_can_be_replaced_as_json() -> None:
    table = {
        "assemblyai_per_hour": {"default": "1"},
        "openai_per_million_tokens": {"m": {"input": "2", "output": "3"}},
        "ses_per_message": "0.5",
    }
    settings = load_settings({"PRICE_TABLE": json.dumps(table)})
    assert str(settings.price_table.openai_per_million_tokens["m"]["output"]) == "3"


@mock_aws
def test_secrets_come_from_secrets_manager_in_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="vox/assemblyai", SecretString="aai-key")
    client.create_secret(Name="vox/webhook", SecretString="hook-secret")
    client.create_secret(
        Name="vox/db", SecretString=json.dumps({"username": "vox", "password": "p@ss word"})
    )
    settings = load_settings(
        {
            "ASSEMBLYAI_SECRET_ID": "vox/assemblyai",
            "WEBHOOK_SECRET_ID": "vox/webhook",
            "DB_SECRET_ID": "vox/db",
            "DB_HOST": "db.internal",
            "DB_NAME": "voxcliente",
        }
    )
    assert settings.get_assemblyai_api_key() == "aai-key"
    assert settings.get_webhook_secret() == "hook-secret"
    conninfo = settings.get_database_conninfo()
    assert "host=db.internal" in conninfo and "user=vox" in conninfo
    assert "p@ss word" in conninfo
    # After a rotation, a refresh reads the new password despite the cache.
    client.put_secret_value(
        SecretId="vox/db", SecretString=json.dumps({"username": "vox", "password": "rotated"})
    )
    assert "rotated" not in settings.get_database_conninfo()
    assert "rotated" in settings.get_database_conninfo(refresh=True)


@pytest.mark.parametrize("models", ["universal-3-pro", "nano", "best", "universal-2,nano", ","])
def test_speech_model_names_are_checked_before_anything_is_spent(models: str) -> None:
    """Regression: `universal-3-pro` (refused since 2026-09-02) or `nano` made every
    submission a 400 that was treated as final."""
    with pytest.raises(ConfigurationError) as info:
        load_settings({"ASSEMBLYAI_SPEECH_MODELS": models})
    assert "ASSEMBLYAI_SPEECH_MODELS" in str(info.value)
    assert "universal-2" in str(info.value)  # says what is accepted


def test_template_speech_models_are_all_accepted() -> None:
    from voxlocal import template

    allowed = template.load()["Parameters"]["AssemblyAiSpeechModels"]["AllowedValues"]
    for value in allowed:
        assert load_settings({"ASSEMBLYAI_SPEECH_MODELS": value}).assemblyai_speech_models


@pytest.mark.parametrize(
    "variables",
    [{"OPENAI_BASE_URL": ""}, {"OPENAI_BASE_URL": "  "}, {}],
)
def test_openai_base_url_is_never_empty(variables: dict[str, str]) -> None:
    """Regression: `OPENAI_BASE_URL: ""` in the template reached the SDK as None,
    and the SDK then read the empty variable itself: every acta failed in AWS."""
    assert load_settings(variables).openai_base_url == "https://api.openai.com/v1"


def test_region_falls_back_to_aws_default_region() -> None:
    assert load_settings({"AWS_DEFAULT_REGION": "eu-west-1"}).aws_region == "eu-west-1"
    both = {"AWS_REGION": "eu-south-2", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert load_settings(both).aws_region == "eu-south-2"


def test_the_worker_gives_up_one_receive_before_the_dead_letter_queue() -> None:
    assert load_settings({}).acta_max_receives == 3
    assert load_settings({"ACTA_QUEUE_MAX_RECEIVES": "6"}).acta_max_receives == 5
    with pytest.raises(ConfigurationError, match=r"ACTA_MAX_RECEIVES.*ACTA_QUEUE_MAX_RECEIVES"):
        load_settings({"ACTA_QUEUE_MAX_RECEIVES": "4", "ACTA_MAX_RECEIVES": "4"})


def test_the_upload_limit_stays_within_what_s3_and_assemblyai_take() -> None:
    assert load_settings({}).max_upload_bytes == 5_000_000_000
    with pytest.raises(ConfigurationError, match="MAX_UPLOAD_BYTES"):
        load_settings({"MAX_UPLOAD_BYTES": str(5 * 1024**3)})


def test_the_emulator_costs_nothing_even_in_a_replaced_table() -> None:
    free = {"input": 0, "output": 0}
    assert load_settings({}).price_table.openai_per_million_tokens["emulator"] == free
    table: dict[str, Any] = {
        "assemblyai_per_hour": {"default": "1"},
        "openai_per_million_tokens": {"m": {"input": "2", "output": "3"}},
        "ses_per_message": "0.5",
    }
    settings = load_settings({"PRICE_TABLE": json.dumps(table)})
    assert settings.price_table.openai_per_million_tokens["emulator"] == free
    table["openai_per_million_tokens"]["emulator"] = {"input": "1", "output": "1"}
    with pytest.raises(ConfigurationError, match="PRICE_TABLE"):
        load_settings({"PRICE_TABLE": json.dumps(table)})


def test_notice_intervals_have_defaults() -> None:
    settings = load_settings({"NOTICE_SETTLE_S": "60"})
    assert (settings.notice_settle_s, settings.notice_lookback_s) == (60, 7 * 86400)


def test_a_dated_openai_snapshot_is_priced_as_its_model() -> None:
    """OpenAI answers with the snapshot that served the request; its price is the
    model's, not the default (nor zero)."""
    from voxcliente.domain.prices import openai_token_prices

    prices = load_settings({}).price_table
    mini = prices.openai_per_million_tokens["gpt-4.1-mini"]
    assert openai_token_prices(prices, "gpt-4.1-mini-2025-04-14") == mini
    assert openai_token_prices(prices, "gpt-4.1-mini") == mini
    assert (
        openai_token_prices(prices, "gpt-4.1-2025-04-14")
        == prices.openai_per_million_tokens["gpt-4.1"]
    )
    assert openai_token_prices(prices, "o9-unknown") is None  # no "default" for OpenAI
