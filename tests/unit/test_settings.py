"""Settings: read once from the environment, validated, secrets from Secrets Manager."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

from voxcliente.errors import ConfigurationError
from voxcliente.settings import load_settings


def test_defaults_need_nothing() -> None:
    settings = load_settings({})
    assert settings.acta_language == "es"
    assert settings.assemblyai_speech_models == ("universal-2",)
    assert settings.db_statement_timeout_ms == 15_000


def test_lists_are_comma_separated() -> None:
    settings = load_settings(
        {"WEB_ORIGINS": "https://a.example, https://b.example", "ASSEMBLYAI_SPEECH_MODELS": "x,y"}
    )
    assert settings.web_origins == ("https://a.example", "https://b.example")
    assert settings.assemblyai_speech_models == ("x", "y")


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
