"""What a resource's ``Ref`` and ``Fn::GetAtt`` return, by resource type.

Physical names CloudFormation would generate (``<stack>-<LogicalId>-<SUFFIX>``)
are derived from the logical id, so they are stable between runs; names the
template gives (a bucket's ``BucketName``, a secret's ``Name``) are used as
given. Nested stacks are not here: :class:`voxlocal.template_env.Stack`
resolves their outputs from their own templates.
"""

from __future__ import annotations

from typing import Any

from voxlocal.template_intrinsics import (
    HEX,
    LOWER,
    MIXED,
    UPPER,
    Intrinsics,
    TemplateEnvError,
    as_text,
    suffix,
    uuid_of,
)

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STACK_TYPES = ("AWS::Serverless::Application", "AWS::CloudFormation::Stack")
_EC2_PREFIXES = {
    "AWS::EC2::VPC": "vpc",
    "AWS::EC2::Subnet": "subnet",
    "AWS::EC2::SecurityGroup": "sg",
    "AWS::EC2::RouteTable": "rtb",
    "AWS::EC2::InternetGateway": "igw",
    "AWS::EC2::NatGateway": "nat",
    "AWS::EC2::VPCEndpoint": "vpce",
}


def generated_name(stack: Intrinsics, logical: str, max_len: int = 80) -> str:
    name = f"{stack.stack_name}-{logical}-{suffix(logical, 12, UPPER)}"
    return name[-max_len:] if len(name) > max_len else name


def _property(stack: Intrinsics, logical: str, prop: str, where: str) -> str | None:
    value = (stack.resources[logical].get("Properties") or {}).get(prop)
    return None if value is None else as_text(stack.resolve(value, where))


def physical_id(stack: Intrinsics, logical: str, where: str) -> str:
    """What ``Ref`` of the resource ``logical`` returns."""
    kind = str(stack.resources[logical].get("Type"))
    region, account, partition = stack.region, stack.account_id, stack.partition
    if kind == "AWS::SQS::Queue":
        name = _property(stack, logical, "QueueName", where) or generated_name(stack, logical)
        return f"https://sqs.{region}.{stack.url_suffix}/{account}/{name}"
    if kind == "AWS::SecretsManager::Secret":
        name = _property(stack, logical, "Name", where) or generated_name(stack, logical)
        return (
            f"arn:{partition}:secretsmanager:{region}:{account}:secret:"
            f"{name}-{suffix(logical, 6, MIXED)}"
        )
    if kind == "AWS::S3::Bucket":
        return (
            _property(stack, logical, "BucketName", where)
            or generated_name(stack, logical, 63).lower()
        )
    if kind == "AWS::SNS::Topic":
        name = _property(stack, logical, "TopicName", where) or generated_name(stack, logical)
        return f"arn:{partition}:sns:{region}:{account}:{name}"
    if kind == "AWS::SES::ConfigurationSet":
        return _property(stack, logical, "Name", where) or (
            f"{logical}-{suffix(logical, 12, UPPER)}"
        )
    if kind in FUNCTION_TYPES:
        return _property(stack, logical, "FunctionName", where) or generated_name(
            stack, logical, 64
        )
    if kind in STACK_TYPES:
        # A nested stack's Ref is its stack id; its name is made like any other.
        name = generated_name(stack, logical, 128)
        return f"arn:{partition}:cloudformation:{region}:{account}:stack/{name}/{uuid_of(name)}"
    if kind in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
        return suffix(logical, 10, LOWER)
    if kind == "AWS::Serverless::LayerVersion":
        name = _property(stack, logical, "LayerName", where) or generated_name(stack, logical)
        return f"arn:{partition}:lambda:{region}:{account}:layer:{name}:1"
    if kind == "AWS::Logs::LogGroup":
        return _property(stack, logical, "LogGroupName", where) or generated_name(stack, logical)
    if kind == "AWS::RDS::DBInstance":
        return generated_name(stack, logical, 63).lower()
    if kind == "AWS::RDS::DBProxy":
        return _property(stack, logical, "DBProxyName", where) or generated_name(stack, logical)
    if kind.startswith("AWS::EC2::"):
        return f"{_EC2_PREFIXES.get(kind, 'id')}-{suffix(logical, 17, HEX)}"
    return generated_name(stack, logical)


def attributes(stack: Intrinsics, logical: str, where: str) -> dict[str, Any]:
    """What ``Fn::GetAtt`` of the resource ``logical`` returns, per attribute."""
    kind = str(stack.resources[logical].get("Type"))
    region, account, partition = stack.region, stack.account_id, stack.partition
    cluster = suffix(f"{account}{region}", 12, LOWER)
    if kind == "AWS::SQS::Queue":
        url = physical_id(stack, logical, where)
        name = url.rsplit("/", 1)[1]
        return {
            "Arn": f"arn:{partition}:sqs:{region}:{account}:{name}",
            "QueueName": name,
            "QueueUrl": url,
        }
    if kind == "AWS::RDS::DBInstance":
        identifier = physical_id(stack, logical, where)
        return {
            "Endpoint.Address": f"{identifier}.{cluster}.{region}.rds.amazonaws.com",
            "Endpoint.Port": "5432",
            "MasterUserSecret.SecretArn": (
                f"arn:{partition}:secretsmanager:{region}:{account}:secret:"
                f"rds!db-{uuid_of(logical)}-{suffix(logical + 's', 6, MIXED)}"
            ),
        }
    if kind == "AWS::RDS::DBProxy":
        name = physical_id(stack, logical, where)
        return {
            "Endpoint": f"{name}.proxy-{cluster}.{region}.rds.amazonaws.com",
            "DBProxyArn": f"arn:{partition}:rds:{region}:{account}:db-proxy:prx-{cluster}",
        }
    if kind == "AWS::S3::Bucket":
        bucket = physical_id(stack, logical, where)
        return {
            "Arn": f"arn:{partition}:s3:::{bucket}",
            "DomainName": f"{bucket}.s3.{stack.url_suffix}",
            "RegionalDomainName": f"{bucket}.s3.{region}.{stack.url_suffix}",
        }
    if kind == "AWS::EC2::SecurityGroup":
        return {"GroupId": physical_id(stack, logical, where)}
    if kind in FUNCTION_TYPES:
        name = physical_id(stack, logical, where)
        return {"Arn": f"arn:{partition}:lambda:{region}:{account}:function:{name}"}
    if kind == "AWS::SNS::Topic":
        arn = physical_id(stack, logical, where)
        return {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[1]}
    if kind == "AWS::Logs::LogGroup":
        name = physical_id(stack, logical, where)
        return {"Arn": f"arn:{partition}:logs:{region}:{account}:log-group:{name}:*"}
    return {}


def attribute(stack: Intrinsics, logical: str, name: str, where: str) -> Any:
    values = attributes(stack, logical, where)
    if name not in values:
        kind = stack.resources[logical].get("Type")
        key = f"{logical}.{name}"
        raise TemplateEnvError(
            f"{where}: no plausible value for Fn::GetAtt {key} ({kind}); "
            f"pass one in resources={{'{key}': ...}}."
        )
    return values[name]
