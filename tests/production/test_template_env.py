"""Functions' environments built from template.yaml, as CloudFormation and Lambda set them."""

from __future__ import annotations

from typing import Any

import pytest

from production.deployment import FUNCTIONS, PARAMETERS, REGIONS, TEMPLATE
from voxlocal.template_env import Stack, TemplateEnvError, function_environment

pytestmark = pytest.mark.production


def stack(**parameters: str) -> Stack:
    return Stack(region="eu-west-1", parameters={**PARAMETERS, **parameters}, template=TEMPLATE)


def test_every_function_of_the_template_is_found() -> None:
    serverless = [
        name
        for name, res in TEMPLATE["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    ]
    assert list(FUNCTIONS) == serverless
    assert {"SubmitFunction", "WebhookFunction", "ActaFunction"} <= set(FUNCTIONS)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_variable_resolves_to_a_plain_string(function: str, region: str) -> None:
    env = Stack(region=region, parameters=PARAMETERS, template=TEMPLATE).function_environment(
        function
    )
    globals_ = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    own = (TEMPLATE["Resources"][function]["Properties"].get("Environment") or {}).get(
        "Variables"
    ) or {}
    assert set(globals_) | set(own) <= set(env)
    for name, value in env.items():
        assert isinstance(value, str), name
        assert "${" not in value and "Fn::" not in value and "{'Ref'" not in value, (name, value)
    # What Lambda adds.
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == region
    assert env["AWS_LAMBDA_FUNCTION_NAME"].startswith(f"voxcliente-dev-{function}-")
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"


def test_references_resolve_to_what_cloudformation_returns() -> None:
    env = stack().function_environment("SubmitFunction")
    account, region = "123456789012", "eu-west-1"
    assert env["AUDIO_BUCKET"] == f"voxcliente-audio-{account}-{region}-dev"
    assert env["ACTA_QUEUE_URL"].startswith(
        f"https://sqs.{region}.amazonaws.com/{account}/voxcliente-dev-ActaQueue-"
    )
    assert env["ASSEMBLYAI_SECRET_ID"].startswith(
        f"arn:aws:secretsmanager:{region}:{account}:secret:voxcliente-dev/assemblyai-api-key-"
    )
    assert env["WEBHOOK_URL"].startswith("https://")
    assert env["WEBHOOK_URL"].endswith(f".execute-api.{region}.amazonaws.com/webhooks/assemblyai")
    # Fn::If on conditions: a created database (CreateDb), no proxy, sslmode require.
    assert env["DB_HOST"].endswith(f".{region}.rds.amazonaws.com")
    assert ".proxy-" not in env["DB_HOST"]
    assert ":secret:rds!db-" in env["DB_SECRET_ID"]
    assert env["DB_SSLROOTCERT"] == ""
    # Fn::FindInMap: Powertools' WARNING is Lambda's WARN.
    assert (
        stack(LogLevel="WARNING").function_environment("SubmitFunction")["AWS_LAMBDA_LOG_LEVEL"]
        == "WARN"
    )


def test_conditions_follow_the_parameters() -> None:
    proxied = stack(EnableRdsProxy="true", DbSslMode="verify-full")
    env = proxied.function_environment("ActaFunction")
    assert ".proxy-" in env["DB_HOST"]
    assert env["DB_SSLROOTCERT"] == "/opt/python/certifi/cacert.pem"

    existing = stack(
        ExistingDbHost="db.internal.example",
        ExistingDbSecretArn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
        EnableRdsProxy="true",  # UseRdsProxy needs CreateDb: ignored here
    ).function_environment("ActaFunction")
    assert existing["DB_HOST"] == "db.internal.example"
    assert existing["DB_SECRET_ID"].endswith(":secret:db-AbCdEf")

    assert stack().function_environment("ActaFunction")["SES_REPLY_TO"] == ""
    replying = stack(ReplyToEmail="equipo@example.com").function_environment("ActaFunction")
    assert replying["SES_REPLY_TO"] == "equipo@example.com"


def test_join_split_select_and_sub_with_variables() -> None:
    s = stack(WebOrigins="https://a.example, https://b.example")
    assert s.function_environment("UploadApiFunction")["WEB_ORIGINS"] == (
        "https://a.example,https://b.example"
    )
    node: dict[str, Any] = {
        "Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}],
    }
    assert s.resolve(node, "test") == "y"
    assert s.resolve({"Fn::Sub": ["${A}-${AWS::Region}-${!Literal}", {"A": "a"}]}, "t") == (
        "a-eu-west-1-${Literal}"
    )
    assert s.resolve({"Fn::GetAZs": ""}, "t")[0] == "eu-west-1a"


def test_resources_given_by_the_caller_win() -> None:
    arn = (
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:voxcliente-dev/openai-api-key-Zz9Zz9"
    )
    env = Stack(
        region="eu-west-1",
        parameters=PARAMETERS,
        resources={"OpenAiSecret": arn, "Database.Outputs.SecretArn": "db-arn"},
        template=TEMPLATE,
    ).function_environment("ActaFunction")
    assert env["OPENAI_SECRET_ID"] == arn
    assert env["DB_SECRET_ID"] == "db-arn"


def test_what_cannot_be_resolved_is_said_not_guessed() -> None:
    with pytest.raises(TemplateEnvError, match="SenderEmail has no default"):
        function_environment("ActaFunction", region="eu-west-1")
    with pytest.raises(TemplateEnvError, match="not a function of the template"):
        stack().function_environment("AudioBucket")
    with pytest.raises(TemplateEnvError, match="not one of"):
        stack(Stage="staging")
    with pytest.raises(TemplateEnvError, match="Unknown parameter"):
        stack(NoSuchParameter="x")
    with pytest.raises(TemplateEnvError, match="no plausible value for Fn::GetAtt"):
        stack().get_att("ActaQueue", "NoSuchAttribute")


def test_every_function_is_deployed_and_the_api_ones_know_the_issuer() -> None:
    """No function depends on a condition any more (sign-in replaced PublicUploads):
    both API functions are told the issuer and audience the authorizer checks, the
    local placeholders unless given (a test's own issuer wins)."""
    from voxcliente.settings import load_settings
    from voxlocal.template_env import LOCAL_PARAMETERS

    for function in FUNCTIONS:
        assert stack().function_environment(function)["AUDIO_BUCKET"], function
    assert LOCAL_PARAMETERS == {
        "AuthIssuerUrl": "https://issuer.invalid",
        "AuthAudience": "voxcliente",
    }
    issuer = "https://clerk.voxcliente.example"
    for function in ("UploadApiFunction", "AccountApiFunction"):
        local = load_settings(stack().function_environment(function))
        assert (local.auth_issuer_url, local.auth_audience) == (
            "https://issuer.invalid",
            "voxcliente",
        )
        given = stack(AuthIssuerUrl=issuer, AuthAudience="web").function_environment(function)
        assert (given["AUTH_ISSUER_URL"], given["AUTH_AUDIENCE"]) == (issuer, "web")
    with pytest.raises(TemplateEnvError, match="not one of"):
        stack(AnonymousUploads="yes")


@pytest.mark.parametrize("region", ["us", "eu"])
def test_the_data_region_points_every_function_at_its_providers(region: str) -> None:
    """Read as the functions read it: DataRegion=eu is AssemblyAI's EU endpoint and
    OpenAI's European one in every function's settings; us, their defaults."""
    from voxcliente.settings import load_settings

    expected = {
        "us": ("https://api.assemblyai.com", "https://api.openai.com/v1"),
        "eu": ("https://api.eu.assemblyai.com", "https://eu.api.openai.com/v1"),
    }[region]
    s = stack(DataRegion=region)
    for function in FUNCTIONS:
        settings = load_settings(s.function_environment(function))
        assert (settings.assemblyai_base_url, settings.openai_base_url) == expected, function
        assert settings.data_region == region, function


def test_limits_and_retention_are_read_by_the_functions_that_enforce_them() -> None:
    """Each parameter, given a value other than its default, is what the settings of
    the functions enforcing it read (0 = no limit for the spend and the quota)."""
    from voxcliente.settings import load_settings

    s = stack(
        AnonymousUploads="confirm-email",
        TrialDailyPerAddress="2",
        TrialDailyPerIp="7",
        DailySpendLimitUsd="0",
        MonthlyAudioMinutesQuota="0",
        AudioRetentionDays="7",
        TranscriptRetentionDays="30",
        ActaRetentionDays="180",
        DeleteProviderTranscript="false",
    )
    upload = load_settings(s.function_environment("UploadApiFunction"))
    assert upload.anonymous_uploads == "confirm-email"
    assert (upload.trial_daily_per_address, upload.trial_daily_per_ip) == (2, 7)
    assert upload.daily_spend_limit_usd == 0
    assert upload.monthly_audio_minutes_quota == 0
    for function in ("SubmitFunction", "ReconcilerFunction"):  # the reconciler resubmits
        assert load_settings(s.function_environment(function)).daily_spend_limit_usd == 0
    for function in ("ReconcilerFunction", "AccountApiFunction"):
        settings = load_settings(s.function_environment(function))
        assert (
            settings.audio_retention_days,
            settings.transcript_retention_days,
            settings.acta_retention_days,
        ) == (7, 30, 180), function
    for function in ("ActaFunction", "ReconcilerFunction"):  # the worker, then the sweep
        assert load_settings(s.function_environment(function)).delete_provider_transcript is False
    assert load_settings(stack().function_environment("ActaFunction")).delete_provider_transcript


@pytest.mark.parametrize(
    "models", TEMPLATE["Parameters"]["AssemblyAiSpeechModels"]["AllowedValues"]
)
@pytest.mark.parametrize("language", [None, "es"])
def test_every_allowed_speech_model_choice_makes_a_request_assemblyai_accepts(
    models: str, language: str | None
) -> None:
    """Regression: a speech model name AssemblyAI refuses made every submission a 400.
    Each value the template allows, read by Submit's settings from the environment
    the template gives it, builds a request the strict AssemblyAI double accepts."""
    from voxcliente.adapters import assemblyai
    from voxcliente.settings import load_settings
    from voxlocal.emulators.assemblyai_schema import check_transcript_params

    env = stack(AssemblyAiSpeechModels=models).function_environment("SubmitFunction")
    settings = load_settings(env)
    assert settings.assemblyai_speech_models == tuple(models.split(","))
    request = assemblyai.transcript_request(
        "https://voxcliente-audio.s3.eu-west-1.amazonaws.com/inbox/a.mp3?X-Amz-Signature=x",
        language_code=language,
        settings=settings,
    )
    check_transcript_params(request)  # raises what AssemblyAI would answer


def test_nested_applications_resolve_from_their_own_templates() -> None:
    """The network and the database are nested stacks: their outputs are resolved
    from templates/*.yaml with the parameters template.yaml passes them, under the
    nested stack's own name (CloudFormation's <parent>-<LogicalId>-<SUFFIX>)."""
    s = stack()
    env = s.function_environment("WebhookFunction")
    network = s.nested("Network")
    assert network.stack_name.startswith("voxcliente-dev-Network-")
    subnets = s.get_att("Network", "Outputs.PrivateSubnetIds").split(",")
    assert len(subnets) == 2 and all(subnet.startswith("subnet-") for subnet in subnets)
    assert s.get_att("Network", "Outputs.LambdaSecurityGroupCreated") == "true"
    assert env["DB_HOST"] == s.get_att("Database", "Outputs.Host")
    # The parent's parameters reach the child: an existing network and database.
    existing = stack(
        ExistingVpcId="vpc-0123456789abcdef0",
        ExistingPrivateSubnetIds="subnet-a,subnet-b",
        ExistingLambdaSecurityGroupId="sg-0123456789abcdef0",
        ExistingDbHost="db.internal.example",
        ExistingDbSecretArn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
    )
    assert existing.get_att("Network", "Outputs.PrivateSubnetIds") == "subnet-a,subnet-b"
    assert existing.get_att("Network", "Outputs.LambdaSecurityGroupCreated") == "false"
    database = existing.nested("Database")
    assert database.parameters["VpcId"] == "vpc-0123456789abcdef0"
    assert database.parameters["PrivateSubnetIds"] == ["subnet-a", "subnet-b"]
    assert not database.condition("CreateDb")
    assert not database.condition("AddLambdaRules")
    with pytest.raises(TemplateEnvError, match="has no output NoSuchOutput"):
        s.get_att("Database", "Outputs.NoSuchOutput")


def test_acta_timeout_and_queue_receives_reach_the_functions() -> None:
    """ActaTimeoutSeconds is the Acta function's claim timeout and the Reconciler's;
    the queue's maxReceiveCount is what the Acta function is told."""
    short = stack(ActaTimeoutSeconds="300")
    assert short.function_environment("ActaFunction")["ACTA_CLAIM_TIMEOUT_S"] == "300"
    assert short.function_environment("ReconcilerFunction")["ACTA_CLAIM_TIMEOUT_S"] == "300"
    assert short.resource_property("ActaQueue", "VisibilityTimeout") == 1800
    redrive = short.resource_property("ActaQueue", "RedrivePolicy")
    acta = short.function_environment("ActaFunction")
    assert acta["ACTA_QUEUE_MAX_RECEIVES"] == str(redrive["maxReceiveCount"])


# --- parameters feeding the functions, read as the functions read them ----------------
ACTA_TIMEOUTS = TEMPLATE["Parameters"]["ActaTimeoutSeconds"]["AllowedValues"]
RECONCILE_INTERVALS = TEMPLATE["Parameters"]["ReconcileIntervalMinutes"]["AllowedValues"]


@pytest.mark.parametrize("seconds", ACTA_TIMEOUTS)
def test_one_acta_timeout_sets_the_function_the_queue_and_both_claim_timeouts(
    seconds: int,
) -> None:
    """Each allowed ActaTimeoutSeconds, resolved: the Acta function's Timeout, the
    queue's visibility six times it, and the claim timeout the Acta and Reconciler
    settings read from their environments, all the one number."""
    from voxcliente.settings import load_settings

    s = stack(ActaTimeoutSeconds=str(seconds))
    # A parameter given as text stays text, as CloudFormation passes it.
    assert int(s.resource_property("ActaFunction", "Timeout")) == seconds
    assert s.resource_property("ActaQueue", "VisibilityTimeout") == 6 * seconds
    for function in ("ActaFunction", "ReconcilerFunction"):
        env = s.function_environment(function)
        assert env["ACTA_CLAIM_TIMEOUT_S"] == str(seconds), function
        assert load_settings(env).acta_claim_timeout_s == seconds, function


def test_the_acta_function_gives_up_before_the_queue_dead_letters() -> None:
    """The Acta function is told the queue's maxReceiveCount and, reading it, gives up
    (telling the person) one receive before SQS moves the message to the DLQ."""
    from voxcliente.settings import load_settings

    s = stack()
    max_receives = s.resource_property("ActaQueue", "RedrivePolicy")["maxReceiveCount"]
    settings = load_settings(s.function_environment("ActaFunction"))
    assert settings.acta_queue_max_receives == max_receives
    assert settings.acta_max_receives == max_receives - 1


@pytest.mark.parametrize("function", ["SubmitFunction", "UploadApiFunction"])
def test_max_upload_bytes_reaches_the_functions_that_accept_uploads(function: str) -> None:
    """MaxUploadBytes is the limit Submit and UploadApi read; its default is the
    settings' own (5 GB, what one S3 PUT stores), a smaller value is obeyed."""
    from voxcliente.settings import load_settings

    default = TEMPLATE["Parameters"]["MaxUploadBytes"]["Default"]
    assert load_settings(stack().function_environment(function)).max_upload_bytes == default
    assert load_settings({}).max_upload_bytes == default
    env = stack(MaxUploadBytes="2000000000").function_environment(function)
    assert env["MAX_UPLOAD_BYTES"] == "2000000000"
    assert load_settings(env).max_upload_bytes == 2_000_000_000


@pytest.mark.parametrize("minutes", RECONCILE_INTERVALS)
def test_the_stuck_meetings_alarm_period_follows_the_reconcile_schedule(minutes: int) -> None:
    """Resolved for each allowed interval: the reconciler runs every N minutes and the
    stuck-meetings alarm's period is N minutes, so each period holds one run."""
    s = stack(ReconcileIntervalMinutes=str(minutes))
    (event,) = s.resources["ReconcilerFunction"]["Properties"]["Events"].values()
    schedule = s.resolve(event["Properties"]["Schedule"], "ReconcilerFunction.Schedule")
    assert schedule == f"rate({minutes} minutes)"
    assert s.resource_property("MeetingsStuckAlarm", "Period") == 60 * minutes


def test_the_errors_alarm_reads_every_function_by_its_name() -> None:
    """The metric-math alarm, resolved: one Errors query per function, each naming
    the function Lambda runs (its AWS_LAMBDA_FUNCTION_NAME), and the one expression
    summing them."""
    s = stack()
    names = {s.function_environment(f)["AWS_LAMBDA_FUNCTION_NAME"] for f in FUNCTIONS}
    metrics = s.resource_property("FunctionErrorsAlarm", "Metrics")
    read = [
        dimension["Value"]
        for query in metrics
        if "MetricStat" in query
        for dimension in query["MetricStat"]["Metric"]["Dimensions"]
    ]
    assert sorted(read) == sorted(names)
    assert [q["Expression"] for q in metrics if "Expression" in q] == ["SUM(METRICS())"]


NESTED_CASES = {
    "created": {},
    "proxied": {"EnableRdsProxy": "true", "DbSslMode": "verify-full"},
    "existing": {
        "ExistingDbHost": "db.internal.example",
        "ExistingDbSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
    },
}


@pytest.mark.parametrize("case", NESTED_CASES)
def test_the_database_stack_outputs_reach_every_function(case: str) -> None:
    """What the nested database stack outputs (its host, secret and CA bundle) is
    what every function's environment says, however the database is provided."""
    s = stack(**NESTED_CASES[case])
    host = s.get_att("Database", "Outputs.Host")
    secret = s.get_att("Database", "Outputs.SecretArn")
    if case == "existing":
        assert (host, secret) == (
            "db.internal.example",
            NESTED_CASES["existing"]["ExistingDbSecretArn"],
        )
    for function in FUNCTIONS:
        env = s.function_environment(function)
        assert (env["DB_HOST"], env["DB_SECRET_ID"]) == (host, secret), function
        if case == "proxied":
            assert env["DB_SSLROOTCERT"] == s.get_att("Database", "Outputs.CaBundle"), function
