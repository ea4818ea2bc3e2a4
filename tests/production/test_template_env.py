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


def test_a_function_left_out_by_its_condition_has_no_environment() -> None:
    """UploadApi is deployed only with PublicUploads=true (no open relay by default):
    with the default, asking for its environment says so instead of inventing one."""
    with pytest.raises(TemplateEnvError, match="ServePublicUploads is false"):
        stack(PublicUploads="false").function_environment("UploadApiFunction")
    assert stack(PublicUploads="true").function_environment("UploadApiFunction")["WEB_ORIGINS"]
    # the inbox drop is always there
    assert stack(PublicUploads="false").function_environment("SubmitFunction")["AUDIO_BUCKET"]


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
