"""Typed configuration, read once from the environment and validated.

Logic code never reads ``os.environ``: it asks :func:`get_settings`. A missing
or malformed variable raises :class:`ConfigurationError` naming the variable
and what it should hold.

Secrets. Locally (``make demo``, tests) the API keys, the webhook secret and
the database URL may be given directly in the environment. In AWS the template
passes only the *names* of Secrets Manager secrets (``*_SECRET_ID``) and the
values are fetched through Powertools Parameters, cached for
``SECRETS_MAX_AGE_S`` seconds per execution environment, so a rotated key is
picked up without a redeploy.
"""

# Deliberately without ``from __future__ import annotations``: the reader below
# takes each field's type from the class's annotations, so they stay objects.

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar, Literal, Self

from voxcliente.domain.errors import ConfigurationError
from voxcliente.domain.frozen import Frozen, field
from voxcliente.domain.prices import Prices, default_prices
from voxcliente.setting_values import check_speech_models, read_value

# The largest file accepted: AssemblyAI transcribes files of at most 5 GB given by
# URL (its FAQ, "Are there any limits on file size or file duration for files
# submitted to the API?"; 10 hours of audio at most), and one S3 PUT or presigned
# POST stores at most 5 GB. Counted in decimal bytes, the reading of "5 GB" that
# stays under both.
MAX_UPLOAD_BYTES_LIMIT = 5_000_000_000


SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class SettingField:
    """What the reader knows of one setting."""

    __slots__ = ("default", "limits", "type")

    def __init__(self, kind: Any, default: Any, limits: Mapping[str, float]) -> None:
        self.type = kind
        self.default = default
        self.limits = limits


class Settings(Frozen):
    """Every setting of the system. Field ``foo_bar`` is variable ``FOO_BAR``.

    A frozen record (:mod:`voxcliente.domain.frozen`) read by :func:`load_settings`,
    which checks each value against the field's type, range and accepted names:
    every function reads its settings at a cold start, and this costs none of
    pydantic's import time nor ``@dataclass``'s.
    """

    # Each field by name: its ``default`` (the name pydantic models use), ``type``
    # and ``limits``.
    model_fields: ClassVar[Mapping[str, SettingField]]

    # --- database -------------------------------------------------------
    database_url: str | None = None
    db_secret_id: str | None = None  # RDS-managed secret: {"username", "password"}
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "voxcliente"
    db_sslmode: SslMode = "prefer"
    db_sslrootcert: str | None = None
    db_statement_timeout_ms: int = field(default=15_000, ge=100)
    db_connect_timeout_s: int = field(default=5, ge=1)

    # --- AWS ----------------------------------------------------------------
    # Lambda sets AWS_REGION; AWS_DEFAULT_REGION is read when it is absent.
    aws_region: str = "us-east-1"
    # Only for a local emulator (moto); in AWS unset, and no client looks for
    # one in the environment by itself (see voxcliente.adapters.aws).
    aws_endpoint_url: str | None = None
    audio_bucket: str | None = None
    acta_queue_url: str | None = None
    # Lambda's on-failure destination of Submit and EmailEvents: events whose
    # retries ran out, replayed by the reconciler.
    async_failures_queue_url: str | None = None
    upload_prefix: str = "uploads/"
    inbox_prefix: str = "inbox/"

    # --- AssemblyAI -------------------------------------------------------
    assemblyai_api_key: str | None = None
    assemblyai_secret_id: str | None = None
    assemblyai_base_url: str = "https://api.assemblyai.com"
    # Named explicitly, in priority order (AssemblyAI routes to the first one
    # available for the language): its defaults and accepted model names change.
    # The API takes ``speech_models`` (plural); the singular form is deprecated.
    assemblyai_speech_models: tuple[str, ...] = ("universal-2",)
    assemblyai_pii_redaction: bool = False
    # What redaction removes when enabled. Names are kept on purpose: an acta
    # names its attendees.
    assemblyai_pii_policies: tuple[str, ...] = (
        "phone_number",
        "email_address",
        "credit_card_number",
        "banking_information",
    )
    assemblyai_timeout_s: float = field(default=8.0, gt=0)
    # Send the file's bytes to AssemblyAI's upload endpoint instead of a
    # presigned URL: for a bucket AssemblyAI cannot reach (a local run).
    assemblyai_upload_audio: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_secret_id: str | None = None
    webhook_auth_header: str = "X-VoxCliente-Webhook-Secret"

    # --- uploads ----------------------------------------------------------
    # See MAX_UPLOAD_BYTES_LIMIT; the template's MaxUploadBytes has the same default.
    max_upload_bytes: int = field(default=MAX_UPLOAD_BYTES_LIMIT, gt=0, le=MAX_UPLOAD_BYTES_LIMIT)
    presign_post_ttl_s: int = field(default=900, ge=60, le=3600)
    # How long AssemblyAI may take to fetch the audio (its queue). The URL can
    # never outlive the signing credentials: a Lambda role's last for hours.
    presign_get_ttl_s: int = field(default=6 * 3600, ge=300, le=7 * 24 * 3600)
    web_origins: tuple[str, ...] = ("http://localhost:5173",)

    # --- accounts, limits, retention (template parameters of the same names) ---
    # The JWT authorizer's issuer and audience. API Gateway verifies every token
    # before a handler runs; these are for the local API, which verifies the same way.
    auth_issuer_url: str | None = None
    auth_audience: str | None = None
    # "off": uploads need sign-in. "confirm-email": also a trial upload for an
    # address confirmed by a one-time code, within the daily limits below.
    anonymous_uploads: Literal["off", "confirm-email"] = "off"
    trial_code_ttl_s: int = field(default=900, ge=60, le=86_400)
    trial_daily_per_address: int = field(default=3, ge=1)
    trial_daily_per_ip: int = field(default=10, ge=1)
    # New meetings are refused once today's (UTC) spend reaches this; 0 = no limit.
    daily_spend_limit_usd: float = field(default=50.0, ge=0)
    # Audio minutes a signed-in user may send per calendar month (UTC); 0 = no quota.
    monthly_audio_minutes_quota: int = field(default=600, ge=0)
    # Lifetime of the presigned GETs of GET /meetings/{id}.
    download_url_ttl_s: int = field(default=300, ge=60, le=3600)
    # Where the emailed .docx and transcript are kept for download, in the audio
    # bucket, each prefix under its own lifecycle rule.
    acta_documents_prefix: str = "actas/"
    transcript_documents_prefix: str = "transcripts/"
    audio_retention_days: int = field(default=30, ge=1)
    transcript_retention_days: int = field(default=90, ge=1)
    acta_retention_days: int = field(default=365, ge=1)
    # Delete the transcript at AssemblyAI once the acta is emailed.
    delete_provider_transcript: bool = True
    # "eu": AssemblyAI's and OpenAI's European endpoints (the template sets the
    # base URLs from it; kept here so the API can report it).
    data_region: Literal["us", "eu"] = "us"

    # --- OpenAI -----------------------------------------------------------
    openai_api_key: str | None = None
    openai_secret_id: str | None = None
    # Always passed to the SDK explicitly: given None, the openai SDK reads
    # OPENAI_BASE_URL itself, and an empty value there breaks every request.
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4.1-mini"
    openai_timeout_s: float = field(default=120.0, gt=0)
    openai_max_retries: int = field(default=2, ge=0, le=10)
    # Transcript budget per request, in characters (about 4 per token).
    acta_max_chars_per_part: int = field(default=200_000, ge=1_000)
    acta_max_parallel_parts: int = field(default=4, ge=1, le=16)
    acta_language: str = "es"
    acta_follow_meeting_language: bool = True

    # --- email ------------------------------------------------------------
    ses_from: str = "VoxCliente <actas@voxcliente.example>"
    ses_reply_to: str | None = None
    ses_configuration_set: str | None = None

    # --- timing of the worker and the reconciler ---------------------------
    # How long a worker may hold a meeting's claim: the Acta function's timeout
    # (the template gives both from one parameter, ActaTimeoutSeconds). Without a
    # Lambda context (tests, local runs) it is also the acta's time budget.
    acta_claim_timeout_s: int = field(default=900, ge=30)
    # The acta queue's maxReceiveCount (the template passes its own), after which
    # SQS moves a message to the dead-letter queue.
    acta_queue_max_receives: int | None = field(default=None, ge=2)
    # Receives of one queue message after which a transient failure is final: one
    # below the queue's maxReceiveCount, so the person is told before the message
    # goes to the dead-letter queue. Derived from ACTA_QUEUE_MAX_RECEIVES when set.
    acta_max_receives: int = field(default=3, ge=1)
    # Claims of one meeting's acta work (every receive, redelivery or re-queue
    # counts) after which an unexpected failure ends it failed (internal_error)
    # and the reconciler stops re-queueing it.
    max_attempts: int = field(default=5, ge=1)
    reconcile_submitted_after_s: int = field(default=3 * 3600, ge=60)
    # A failed meeting's notice is asked for again by the reconciler once it has
    # had this long to go out by itself, and only for failures this recent.
    notice_settle_s: float = field(default=600, gt=0)
    notice_lookback_s: float = field(default=7 * 86400, gt=0)

    # --- costs --------------------------------------------------------------
    price_table: Prices = field(default_factory=default_prices)

    secrets_max_age_s: int = field(default=300, ge=0)

    # --- secrets ------------------------------------------------------------
    def _secret(self, direct: str | None, secret_id: str | None, variable: str) -> str:
        if direct:
            return direct
        if secret_id:
            value = _secrets_provider().get(secret_id, max_age=self.secrets_max_age_s)
            if not value:
                raise ConfigurationError(f"The secret {secret_id} ({variable}_SECRET_ID) is empty.")
            return str(value)
        raise ConfigurationError(
            f"{variable} is not set: give it, or {variable.removesuffix('_API_KEY')}"
            f"_SECRET_ID naming a Secrets Manager secret that holds it."
        )

    def get_assemblyai_api_key(self) -> str:
        return self._secret(
            self.assemblyai_api_key, self.assemblyai_secret_id, "ASSEMBLYAI_API_KEY"
        )

    def get_openai_api_key(self) -> str:
        return self._secret(self.openai_api_key, self.openai_secret_id, "OPENAI_API_KEY")

    def get_webhook_secret(self) -> str:
        if self.webhook_secret:
            return self.webhook_secret
        if self.webhook_secret_id:
            return self._secret(None, self.webhook_secret_id, "WEBHOOK_SECRET")
        raise ConfigurationError(
            "WEBHOOK_SECRET is not set: give it, or WEBHOOK_SECRET_ID naming a Secrets "
            "Manager secret that holds it."
        )

    def get_database_conninfo(self, *, refresh: bool = False) -> str:
        """The libpq connection string, with credentials from the secret in AWS.

        ``refresh`` skips the cache: after a password rotation the cached
        password fails until it expires.
        """
        if self.database_url:
            return self.database_url
        if self.db_secret_id and self.db_host:
            secret = _secrets_provider().get(
                self.db_secret_id,
                transform="json",
                max_age=self.secrets_max_age_s,
                force_fetch=refresh,
            )
            if not isinstance(secret, dict) or "username" not in secret or "password" not in secret:
                raise ConfigurationError(
                    f"The database secret {self.db_secret_id} must be JSON with "
                    "'username' and 'password'."
                )
            from psycopg.conninfo import make_conninfo

            return make_conninfo(
                host=self.db_host,
                port=self.db_port,
                dbname=self.db_name,
                user=secret["username"],
                password=secret["password"],
            )
        raise ConfigurationError(
            "No database configured: set DATABASE_URL, or DB_HOST with DB_SECRET_ID."
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with some settings replaced (tests and the local runners), unchecked."""
        return self.replace(**dict(update or {}))

    def model_dump(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in self.model_fields if name not in (exclude or ())
        }

    def require(self, *names: str) -> None:
        """Fail early, naming every missing variable a function needs."""
        missing = [name.upper() for name in names if not getattr(self, name)]
        if missing:
            raise ConfigurationError(f"Missing required setting(s): {', '.join(missing)}.")


Settings.model_fields = {
    name: SettingField(Settings.__annotations__[name], spec.default, spec.limits)
    for name, spec in Settings._specs.items()
}


@lru_cache(maxsize=1)
def _secrets_provider() -> Any:
    """Powertools' secrets provider on our own client (region and endpoint from settings)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from voxcliente.adapters import aws

    return SecretsProvider(boto3_client=aws.client("secretsmanager"))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping (``os.environ`` by default).

    Every value is checked against its field's type, range and accepted names;
    all the problems are reported at once, each naming its variable.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for name in Settings.model_fields:
        value = env.get(name.upper())
        if value is not None and value.strip() != "":
            raw[name] = value.strip()
    if "aws_region" not in raw and env.get("AWS_DEFAULT_REGION", "").strip():
        raw["aws_region"] = env["AWS_DEFAULT_REGION"].strip()
    # One receive below the queue's maxReceiveCount unless given (a value that is
    # not a number is left to the field's own check).
    queue = raw.get("acta_queue_max_receives", "")
    if "acta_max_receives" not in raw and queue.isdigit():
        raw["acta_max_receives"] = str(int(queue) - 1)

    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, text in raw.items():
        spec = Settings.model_fields[name]
        try:
            value = read_value(spec.type, text, spec.limits)
            if name == "assemblyai_speech_models":
                check_speech_models(value)
        except (ValueError, TypeError) as exc:
            problems.append(f"{name.upper()}: {exc} (got {text!r})")
            continue
        values[name] = value
    if problems:
        raise ConfigurationError("Invalid configuration: " + "; ".join(problems))
    settings = Settings(**values)
    queue_receives = settings.acta_queue_max_receives
    if queue_receives is not None and settings.acta_max_receives >= queue_receives:
        raise ConfigurationError(
            f"Invalid configuration: ACTA_MAX_RECEIVES ({settings.acta_max_receives}) must be "
            f"below ACTA_QUEUE_MAX_RECEIVES ({queue_receives}): the worker gives up, and tells "
            "the person, before SQS moves the message to the dead-letter queue"
        )
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this execution environment, read once."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the local runner change the environment)."""
    get_settings.cache_clear()
    _secrets_provider.cache_clear()
