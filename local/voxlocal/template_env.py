"""A function's environment as Lambda would give it, built from ``template.yaml``.

:func:`function_environment` merges ``Globals.Function.Environment.Variables``
with the function's own variables (the function's win, as SAM merges them),
resolves the intrinsic functions to the values CloudFormation would produce
(a queue's ``Ref`` is its URL, a secret's ``Ref`` its ARN, ``Fn::If`` follows
the template's ``Conditions`` with the parameters given, and so on), and adds
the variables the Lambda runtime itself sets (``AWS_REGION``,
``AWS_DEFAULT_REGION``, ``AWS_LAMBDA_FUNCTION_NAME``, ...; Lambda developer
guide, "Defined runtime environment variables").

Physical names CloudFormation would generate (``<stack>-<LogicalId>-<SUFFIX>``)
are derived from the logical id, so they are stable between runs. A test that
created a resource elsewhere (a secret in moto gets its own ARN suffix) passes
its real value in ``resources``: ``{"AssemblyAiSecret": "<arn>"}`` for a
``Ref`` and ``{"Db.MasterUserSecret.SecretArn": "<arn>"}`` for a ``Fn::GetAtt``.

What it leaves out on purpose: ``PATH``, ``LD_LIBRARY_PATH`` and
``PYTHONPATH`` (they describe the runtime's file system, not a setting of the
code). A value it cannot resolve plausibly raises :class:`TemplateEnvError`
naming the variable and the intrinsic, instead of guessing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import string
from collections.abc import Mapping
from typing import Any

from voxlocal import template as tpl

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
DEFAULT_ACCOUNT_ID = "123456789012"

# Fake role credentials: Lambda sets the execution role's temporary keys.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAVOXCLIENTETESTKEY",
    "AWS_SECRET_ACCESS_KEY": "voxcliente/test/secret/access/key/not/real",
    "AWS_SESSION_TOKEN": "voxcliente-test-session-token-not-real",
}


class TemplateEnvError(ValueError):
    """The template asks for something this module cannot resolve plausibly."""


class _NoValue:
    """``AWS::NoValue``: the property (here: the variable) is left out."""


NO_VALUE = _NoValue()


def functions(template: Mapping[str, Any] | None = None) -> list[str]:
    """The logical ids of every function in the template, in template order."""
    loaded = template if template is not None else tpl.load()
    return [
        name
        for name, res in (loaded.get("Resources") or {}).items()
        if res.get("Type") in FUNCTION_TYPES
    ]


def partition_of(region: str) -> tuple[str, str]:
    """``(partition, URL suffix)`` of a region."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def _suffix(seed: str, length: int, alphabet: str) -> str:
    """A stable pseudo-random suffix like the ones CloudFormation appends."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


_UPPER = string.ascii_uppercase + string.digits
_LOWER = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"
_MIXED = string.ascii_letters


class Stack:
    """The template deployed as one stack: resolves intrinsics, builds environments.

    ``parameters`` override the template's defaults (``Stage`` is ``stage``
    unless given there); a parameter without a default is needed only when
    something resolved uses it. ``resources`` gives physical ids and
    attributes of resources made elsewhere (see the module docstring).
    """

    def __init__(
        self,
        *,
        region: str,
        account_id: str = DEFAULT_ACCOUNT_ID,
        stage: str = "dev",
        parameters: Mapping[str, str] | None = None,
        resources: Mapping[str, str] | None = None,
        stack_name: str | None = None,
        template: Mapping[str, Any] | None = None,
    ) -> None:
        self.template: Mapping[str, Any] = template if template is not None else tpl.load()
        given = {"Stage": stage, **dict(parameters or {})}
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name or f"voxcliente-{given['Stage']}"
        self.partition, self.url_suffix = partition_of(region)
        self.resources: dict[str, Any] = dict(self.template.get("Resources") or {})
        self.overrides = dict(resources or {})
        self.parameters = self._parameters(given)
        self._conditions: dict[str, bool] = {}

    # --- parameters and conditions ----------------------------------------------

    def _parameters(self, given: Mapping[str, str]) -> dict[str, Any]:
        declared: dict[str, Any] = dict(self.template.get("Parameters") or {})
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise TemplateEnvError(f"Unknown parameter(s) {unknown}: the template declares none.")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            raw = given.get(name, spec.get("Default"))
            if raw is None:
                values[name] = None  # required: an error only if something uses it
                continue
            text = str(raw)
            allowed = spec.get("AllowedValues")
            if allowed is not None and text not in [str(a) for a in allowed]:
                raise TemplateEnvError(f"Parameter {name}={text!r} is not one of {allowed}.")
            if spec.get("Type") == "CommaDelimitedList":
                values[name] = [part.strip() for part in text.split(",")]
            else:
                values[name] = text
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateEnvError(f"Condition {name!r} is not declared in Conditions.")
            self._conditions[name] = self._truth(conditions[name], name)
        return self._conditions[name]

    def _truth(self, node: Any, where: str) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::Equals":
                left, right = (self.resolve(a, where) for a in arg)
                return _as_text(left) == _as_text(right)
            if key == "Fn::Not":
                return not self._truth(arg[0], where)
            if key == "Fn::And":
                return all(self._truth(a, where) for a in arg)
            if key == "Fn::Or":
                return any(self._truth(a, where) for a in arg)
            if key in ("Condition", "Fn::Condition"):  # the short tag loads as Fn::Condition
                return self.condition(str(arg))
        raise TemplateEnvError(f"{where}: {node!r} is not a condition function.")

    # --- intrinsic functions ----------------------------------------------------

    def resolve(self, node: Any, where: str) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item, where) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(str(arg), where)
            if key in ("Condition", "Fn::Condition"):  # the short tag loads as Fn::Condition
                return self.condition(str(arg))
            if key.startswith("Fn::"):
                return self._function(key, arg, where)
        return {k: self.resolve(v, f"{where}.{k}") for k, v in node.items()}

    def _function(self, key: str, arg: Any, where: str) -> Any:
        if key == "Fn::Sub":
            return self._sub(arg, where)
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self.get_att(str(logical), str(self.resolve(attribute, where)), where)
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false, where)
        if key == "Fn::FindInMap":
            name, top, second = (self.resolve(a, where) for a in arg)
            try:
                return self.resolve(self.template["Mappings"][name][top][second], where)
            except KeyError as exc:
                raise TemplateEnvError(
                    f"{where}: Fn::FindInMap [{name}, {top}, {second}] has no value."
                ) from exc
        if key == "Fn::Join":
            delimiter, items = arg
            values = self.resolve(items, where)
            if not isinstance(values, list):
                raise TemplateEnvError(f"{where}: Fn::Join needs a list, got {values!r}.")
            return str(delimiter).join(_as_text(v) for v in values)
        if key == "Fn::Split":
            delimiter, text = arg
            return _as_text(self.resolve(text, where)).split(str(delimiter))
        if key == "Fn::Select":
            index, items = arg
            values = self.resolve(items, where)
            position = int(_as_text(self.resolve(index, where)))
            if not isinstance(values, list) or not 0 <= position < len(values):
                raise TemplateEnvError(f"{where}: Fn::Select {position} out of {values!r}.")
            return values[position]
        if key == "Fn::GetAZs":
            region = _as_text(self.resolve(arg, where)) or self.region
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::Base64":
            return base64.b64encode(_as_text(self.resolve(arg, where)).encode()).decode()
        raise TemplateEnvError(f"{where}: {key} is not supported here.")

    def _sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v, where) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stays literal, without the "!"
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return _as_text(self.get_att(logical, attribute, where))
            return _as_text(self.ref(name, where))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    # --- Ref and Fn::GetAtt -------------------------------------------------------

    def ref(self, name: str, where: str = "Ref") -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/"
                f"{self.stack_name}/{self._uuid(self.stack_name)}"
            ),
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.overrides:
            return self.overrides[name]
        if name in self.parameters:
            value = self.parameters[name]
            if value is None:
                raise TemplateEnvError(
                    f"{where}: parameter {name} has no default; pass it in parameters."
                )
            return value
        if name in self.resources:
            return self._physical_id(name, where)
        raise TemplateEnvError(f"{where}: Ref {name} names no parameter or resource.")

    def _uuid(self, seed: str) -> str:
        h = _suffix(seed, 32, _HEX)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _generated_name(self, logical: str, max_len: int = 80) -> str:
        name = f"{self.stack_name}-{logical}-{_suffix(logical, 12, _UPPER)}"
        return name[-max_len:] if len(name) > max_len else name

    def _property(self, logical: str, prop: str, where: str) -> str | None:
        value = (self.resources[logical].get("Properties") or {}).get(prop)
        return None if value is None else _as_text(self.resolve(value, where))

    def _physical_id(self, logical: str, where: str) -> str:
        kind = str(self.resources[logical].get("Type"))
        region, account, partition = self.region, self.account_id, self.partition
        if kind == "AWS::SQS::Queue":
            name = self._property(logical, "QueueName", where) or self._generated_name(logical)
            return f"https://sqs.{region}.{self.url_suffix}/{account}/{name}"
        if kind == "AWS::SecretsManager::Secret":
            name = self._property(logical, "Name", where) or self._generated_name(logical)
            return (
                f"arn:{partition}:secretsmanager:{region}:{account}:secret:"
                f"{name}-{_suffix(logical, 6, _MIXED)}"
            )
        if kind == "AWS::S3::Bucket":
            return (
                self._property(logical, "BucketName", where)
                or self._generated_name(logical, 63).lower()
            )
        if kind == "AWS::SNS::Topic":
            name = self._property(logical, "TopicName", where) or self._generated_name(logical)
            return f"arn:{partition}:sns:{region}:{account}:{name}"
        if kind == "AWS::SES::ConfigurationSet":
            return self._property(logical, "Name", where) or (
                f"{logical}-{_suffix(logical, 12, _UPPER)}"
            )
        if kind in FUNCTION_TYPES:
            return self._property(logical, "FunctionName", where) or self._generated_name(
                logical, 64
            )
        if kind in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
            return _suffix(logical, 10, _LOWER)
        if kind == "AWS::Serverless::LayerVersion":
            name = self._property(logical, "LayerName", where) or self._generated_name(logical)
            return f"arn:{partition}:lambda:{region}:{account}:layer:{name}:1"
        if kind == "AWS::Logs::LogGroup":
            return self._property(logical, "LogGroupName", where) or self._generated_name(logical)
        if kind == "AWS::RDS::DBInstance":
            return self._generated_name(logical, 63).lower()
        if kind == "AWS::RDS::DBProxy":
            return self._property(logical, "DBProxyName", where) or self._generated_name(logical)
        if kind.startswith("AWS::EC2::"):
            prefix = {
                "AWS::EC2::VPC": "vpc",
                "AWS::EC2::Subnet": "subnet",
                "AWS::EC2::SecurityGroup": "sg",
                "AWS::EC2::RouteTable": "rtb",
                "AWS::EC2::InternetGateway": "igw",
                "AWS::EC2::NatGateway": "nat",
                "AWS::EC2::VPCEndpoint": "vpce",
            }.get(kind, "id")
            return f"{prefix}-{_suffix(logical, 17, _HEX)}"
        return self._generated_name(logical)

    def get_att(self, logical: str, attribute: str, where: str = "Fn::GetAtt") -> Any:
        key = f"{logical}.{attribute}"
        if key in self.overrides:
            return self.overrides[key]
        if logical not in self.resources:
            raise TemplateEnvError(f"{where}: Fn::GetAtt {key}: no resource {logical}.")
        kind = str(self.resources[logical].get("Type"))
        region, account, partition = self.region, self.account_id, self.partition
        if kind == "AWS::SQS::Queue":
            name = self._physical_id(logical, where).rsplit("/", 1)[1]
            values = {
                "Arn": f"arn:{partition}:sqs:{region}:{account}:{name}",
                "QueueName": name,
                "QueueUrl": self._physical_id(logical, where),
            }
        elif kind == "AWS::RDS::DBInstance":
            identifier = self._physical_id(logical, where)
            cluster = _suffix(f"{account}{region}", 12, _LOWER)
            values = {
                "Endpoint.Address": f"{identifier}.{cluster}.{region}.rds.amazonaws.com",
                "Endpoint.Port": "5432",
                "MasterUserSecret.SecretArn": (
                    f"arn:{partition}:secretsmanager:{region}:{account}:secret:"
                    f"rds!db-{self._uuid(logical)}-{_suffix(logical + 's', 6, _MIXED)}"
                ),
            }
        elif kind == "AWS::RDS::DBProxy":
            name = self._physical_id(logical, where)
            cluster = _suffix(f"{account}{region}", 12, _LOWER)
            values = {
                "Endpoint": f"{name}.proxy-{cluster}.{region}.rds.amazonaws.com",
                "DBProxyArn": f"arn:{partition}:rds:{region}:{account}:db-proxy:prx-{cluster}",
            }
        elif kind == "AWS::S3::Bucket":
            bucket = self._physical_id(logical, where)
            values = {
                "Arn": f"arn:{partition}:s3:::{bucket}",
                "DomainName": f"{bucket}.s3.{self.url_suffix}",
                "RegionalDomainName": f"{bucket}.s3.{region}.{self.url_suffix}",
            }
        elif kind == "AWS::EC2::SecurityGroup":
            values = {"GroupId": self._physical_id(logical, where)}
        elif kind in FUNCTION_TYPES:
            name = self._physical_id(logical, where)
            values = {"Arn": f"arn:{partition}:lambda:{region}:{account}:function:{name}"}
        elif kind == "AWS::SNS::Topic":
            arn = self._physical_id(logical, where)
            values = {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[1]}
        elif kind == "AWS::Logs::LogGroup":
            name = self._physical_id(logical, where)
            values = {"Arn": f"arn:{partition}:logs:{region}:{account}:log-group:{name}:*"}
        else:
            values = {}
        if attribute not in values:
            raise TemplateEnvError(
                f"{where}: no plausible value for Fn::GetAtt {key} ({kind}); "
                f"pass one in resources={{'{key}': ...}}."
            )
        return values[attribute]

    def resource_property(self, logical_id: str, prop: str) -> Any:
        """A resource's property with its intrinsics resolved (e.g. a secret's ``Name``)."""
        node = (self.resources[logical_id].get("Properties") or {}).get(prop)
        return self.resolve(node, f"{logical_id}.{prop}")

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """Every environment variable the function ``logical_id`` runs with."""
        function = self.resources.get(logical_id)
        if function is None or function.get("Type") not in FUNCTION_TYPES:
            raise TemplateEnvError(
                f"{logical_id} is not a function of the template; "
                f"functions: {functions(self.template)}."
            )
        condition = function.get("Condition")
        if condition is not None and not self.condition(str(condition)):
            raise TemplateEnvError(
                f"{logical_id} is not deployed with these parameters: its Condition "
                f"{condition} is false."
            )
        globals_ = ((self.template.get("Globals") or {}).get("Function")) or {}
        props = function.get("Properties") or {}

        # SAM merges Globals' variables with the function's; the function's win.
        variables: dict[str, Any] = {}
        for source in (globals_, props):
            variables.update(((source.get("Environment") or {}).get("Variables")) or {})
        env: dict[str, str] = {}
        for name, node in variables.items():
            value = self.resolve(node, f"{logical_id}.Environment.Variables.{name}")
            if value is not NO_VALUE:
                env[name] = _as_text(value)

        lambda_env = self._runtime_variables(logical_id, globals_, props)
        reserved = sorted(set(env) & set(lambda_env))
        if reserved:
            raise TemplateEnvError(f"{logical_id} sets Lambda's reserved variable(s) {reserved}.")
        env.update(lambda_env)
        return env

    def _runtime_variables(
        self, logical_id: str, globals_: Mapping[str, Any], props: Mapping[str, Any]
    ) -> dict[str, str]:
        """What the Lambda runtime adds (reserved variables)."""

        def setting(name: str, default: Any) -> str:
            return _as_text(self.resolve(props.get(name, globals_.get(name, default)), logical_id))

        function_name = _as_text(self.ref(logical_id, logical_id))
        logging = {**(globals_.get("LoggingConfig") or {}), **(props.get("LoggingConfig") or {})}
        log_group = logging.get("LogGroup")
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{setting('Runtime', 'python3.12')}",
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": setting("MemorySize", 128),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": (
                _as_text(self.resolve(log_group, f"{logical_id}.LoggingConfig.LogGroup"))
                if log_group is not None
                else f"/aws/lambda/{function_name}"
            ),
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "_HANDLER": setting("Handler", "app.lambda_handler"),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            **FAKE_CREDENTIALS,
        }
        if logging.get("LogFormat") == "JSON":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            level = logging.get("ApplicationLogLevel")
            if level is not None:
                env["AWS_LAMBDA_LOG_LEVEL"] = _as_text(self.resolve(level, logical_id))
        if setting("Tracing", "PassThrough") == "Active":
            env["AWS_XRAY_DAEMON_ADDRESS"] = "169.254.79.129:2000"
            env["AWS_XRAY_CONTEXT_MISSING"] = "LOG_ERROR"
            env["_X_AMZN_TRACE_ID"] = (
                "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
            )
        return env


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        raise TemplateEnvError(f"a list where a string is needed: {value!r}")
    return str(value)


def function_environment(
    logical_id: str,
    *,
    region: str,
    account_id: str = DEFAULT_ACCOUNT_ID,
    stage: str = "dev",
    parameters: Mapping[str, str] | None = None,
    resources: Mapping[str, str] | None = None,
    stack_name: str | None = None,
) -> dict[str, str]:
    """Every environment variable the function ``logical_id`` runs with in ``region``.

    See :class:`Stack` for ``parameters`` and ``resources``.
    """
    stack = Stack(
        region=region,
        account_id=account_id,
        stage=stage,
        parameters=parameters,
        resources=resources,
        stack_name=stack_name,
    )
    return stack.function_environment(logical_id)
