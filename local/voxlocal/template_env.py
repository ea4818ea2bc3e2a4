"""A function's environment as Lambda would give it, built from ``template.yaml``.

:func:`function_environment` merges ``Globals.Function.Environment.Variables``
with the function's own variables (the function's win, as SAM merges them),
resolves the intrinsic functions to the values CloudFormation would produce
(a queue's ``Ref`` is its URL, a secret's ``Ref`` its ARN, ``Fn::If`` follows
the template's ``Conditions`` with the parameters given, and so on; see
:mod:`voxlocal.template_intrinsics` and :mod:`voxlocal.template_resources`),
and adds the variables the Lambda runtime itself sets (``AWS_REGION``,
``AWS_DEFAULT_REGION``, ``AWS_LAMBDA_FUNCTION_NAME``, ...; Lambda developer
guide, "Defined runtime environment variables").

Nested applications (``AWS::Serverless::Application`` with a local
``Location``, the network and the database) are stacks of their own: their
``Fn::GetAtt App.Outputs.X`` is the child template's output ``X``, resolved
with the ``Parameters`` the parent passes it, under the child's own name.

A test that created a resource elsewhere (a secret in moto gets its own ARN
suffix) passes its real value in ``resources``: ``{"AssemblyAiSecret": "<arn>"}``
for a ``Ref`` and ``{"Database.Outputs.SecretArn": "<arn>"}`` for a
``Fn::GetAtt``.

What it leaves out on purpose: ``PATH``, ``LD_LIBRARY_PATH`` and
``PYTHONPATH`` (they describe the runtime's file system, not a setting of the
code). A value it cannot resolve plausibly raises :class:`TemplateEnvError`
naming the variable and the intrinsic, instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voxlocal import template as tpl
from voxlocal import template_resources
from voxlocal.template_intrinsics import NO_VALUE, Intrinsics, TemplateEnvError, as_text
from voxlocal.template_resources import FUNCTION_TYPES, STACK_TYPES

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "FUNCTION_TYPES",
    "LOCAL_PARAMETERS",
    "NO_VALUE",
    "Stack",
    "TemplateEnvError",
    "function_environment",
    "functions",
]

DEFAULT_ACCOUNT_ID = "123456789012"

# Parameters a deploy must give (no default) that a local stack gives itself:
# the sign-in issuer and audience. The issuer is a placeholder no token names
# (``.invalid`` never resolves); a test that verifies tokens passes its own
# issuer's URL instead. SenderEmail is left out on purpose: asking for it
# without a value says so (see TemplateEnvError).
LOCAL_PARAMETERS = {
    "AuthIssuerUrl": "https://issuer.invalid",
    "AuthAudience": "voxcliente",
}

# Fake role credentials: Lambda sets the execution role's temporary keys.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAVOXCLIENTETESTKEY",
    "AWS_SECRET_ACCESS_KEY": "voxcliente/test/secret/access/key/not/real",
    "AWS_SESSION_TOKEN": "voxcliente-test-session-token-not-real",
}


def functions(template: Mapping[str, Any] | None = None) -> list[str]:
    """The logical ids of every function in the template, in template order."""
    loaded = template if template is not None else tpl.load()
    return [
        name
        for name, res in (loaded.get("Resources") or {}).items()
        if res.get("Type") in FUNCTION_TYPES
    ]


class Stack(Intrinsics):
    """The template deployed as one stack: resolves intrinsics, builds environments.

    ``parameters`` override the template's defaults (``Stage`` is ``stage``
    unless given there; ``stage=None`` for a template without one, a nested
    stack's); the template's own required parameters in :data:`LOCAL_PARAMETERS`
    get those values unless given. ``resources`` gives physical ids and attributes of resources
    made elsewhere (see the module docstring). ``directory`` is where a
    nested application's local ``Location`` is read from (the template's own).
    """

    def __init__(
        self,
        *,
        region: str,
        account_id: str = DEFAULT_ACCOUNT_ID,
        stage: str | None = "dev",
        parameters: Mapping[str, str] | None = None,
        resources: Mapping[str, str] | None = None,
        stack_name: str | None = None,
        template: Mapping[str, Any] | None = None,
        directory: Path | None = None,
    ) -> None:
        loaded = template if template is not None else tpl.load()
        declared = loaded.get("Parameters") or {}
        given = {
            name: value
            for name, value in LOCAL_PARAMETERS.items()
            if name in declared and "Default" not in declared[name]
        }
        given.update(parameters or {})
        if stage is not None:
            given = {"Stage": stage, **given}
        super().__init__(
            loaded,
            given,
            region=region,
            account_id=account_id,
            stack_name=stack_name or f"voxcliente-{given.get('Stage', 'dev')}",
        )
        self.directory = directory or tpl.TEMPLATE.parent
        self.overrides = dict(resources or {})
        self._children: dict[str, Stack] = {}

    # --- Ref and Fn::GetAtt -------------------------------------------------------

    def ref(self, name: str, where: str = "Ref") -> Any:
        if name in self.overrides:
            return self.overrides[name]
        return super().ref(name, where)

    def resource_ref(self, logical: str, where: str) -> Any:
        return template_resources.physical_id(self, logical, where)

    def get_att(self, logical: str, attribute: str, where: str = "Fn::GetAtt") -> Any:
        key = f"{logical}.{attribute}"
        if key in self.overrides:
            return self.overrides[key]
        if logical not in self.resources:
            raise TemplateEnvError(f"{where}: Fn::GetAtt {key}: no resource {logical}.")
        kind = self.resources[logical].get("Type")
        if kind in STACK_TYPES and attribute.startswith("Outputs."):
            return self.nested(logical).output(attribute.split(".", 1)[1], where)
        return template_resources.attribute(self, logical, attribute, where)

    # --- nested applications --------------------------------------------------------

    def nested(self, logical: str) -> Stack:
        """The nested stack ``logical``, with the parameters this stack passes it."""
        if logical not in self._children:
            props = self.resources[logical].get("Properties") or {}
            where = f"{logical}.Properties"
            location = props.get("Location", props.get("TemplateURL"))
            if not isinstance(location, str) or "://" in location:
                raise TemplateEnvError(
                    f"{where}.Location: only a local template path is read here, not {location!r}."
                )
            given = {
                name: ",".join(as_text(v) for v in value) if isinstance(value, list) else value
                for name, node in (props.get("Parameters") or {}).items()
                if (value := self.resolve(node, f"{where}.Parameters.{name}")) is not NO_VALUE
            }
            path = self.directory / location
            arn = str(template_resources.physical_id(self, logical, where))
            self._children[logical] = Stack(
                region=self.region,
                account_id=self.account_id,
                stage=None,
                parameters={name: as_text(value) for name, value in given.items()},
                stack_name=arn.split(":stack/", 1)[1].split("/", 1)[0],
                template=tpl.load(path),
                directory=path.parent,
            )
        return self._children[logical]

    def output(self, name: str, where: str = "Outputs") -> Any:
        """The value of this stack's output ``name``."""
        outputs = self.template.get("Outputs") or {}
        if name not in outputs:
            raise TemplateEnvError(
                f"{where}: the stack {self.stack_name} has no output {name}; "
                f"it has {sorted(outputs)}."
            )
        condition = outputs[name].get("Condition")
        if condition is not None and not self.condition(str(condition)):
            raise TemplateEnvError(f"{where}: output {name} is left out: {condition} is false.")
        return self.resolve(outputs[name]["Value"], f"{self.stack_name}.Outputs.{name}")

    # --- functions ---------------------------------------------------------------

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
                env[name] = as_text(value)

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
            return as_text(self.resolve(props.get(name, globals_.get(name, default)), logical_id))

        function_name = as_text(self.ref(logical_id, logical_id))
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
                as_text(self.resolve(log_group, f"{logical_id}.LoggingConfig.LogGroup"))
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
                env["AWS_LAMBDA_LOG_LEVEL"] = as_text(self.resolve(level, logical_id))
        if setting("Tracing", "PassThrough") == "Active":
            env["AWS_XRAY_DAEMON_ADDRESS"] = "169.254.79.129:2000"
            env["AWS_XRAY_CONTEXT_MISSING"] = "LOG_ERROR"
            env["_X_AMZN_TRACE_ID"] = (
                "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
            )
        return env


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
