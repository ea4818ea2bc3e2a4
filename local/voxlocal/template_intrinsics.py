"""CloudFormation's intrinsic functions, resolved the way a deploy would resolve them.

:class:`Intrinsics` holds one stack's template, parameters and pseudo parameters
and resolves ``Ref``, ``Fn::Sub``, ``Fn::If`` (following ``Conditions``),
``Fn::FindInMap``, ``Fn::Join``, ``Fn::Split``, ``Fn::Select``, ``Fn::GetAZs`` and
``Fn::Base64``. What a resource's ``Ref`` or ``Fn::GetAtt`` returns depends on
its type and is left to the subclass (:class:`voxlocal.template_env.Stack`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import string
from collections.abc import Mapping
from typing import Any


class TemplateEnvError(ValueError):
    """The template asks for something this module cannot resolve plausibly."""


class _NoValue:
    """``AWS::NoValue``: the property (here: the variable) is left out."""


NO_VALUE = _NoValue()

UPPER = string.ascii_uppercase + string.digits
LOWER = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
MIXED = string.ascii_letters


def suffix(seed: str, length: int, alphabet: str) -> str:
    """A stable pseudo-random suffix like the ones CloudFormation appends."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def uuid_of(seed: str) -> str:
    """A stable UUID-shaped string (stack ids, RDS secret names)."""
    h = suffix(seed, 32, HEX)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def partition_of(region: str) -> tuple[str, str]:
    """``(partition, URL suffix)`` of a region."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def as_text(value: Any) -> str:
    """A resolved value as CloudFormation passes it where a string is needed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        raise TemplateEnvError(f"a list where a string is needed: {value!r}")
    return str(value)


class Intrinsics:
    """One stack's parameters, conditions and intrinsic functions.

    ``given`` are the parameter values passed to the stack (the template's
    defaults fill the rest; a parameter without a default is needed only when
    something resolved uses it).
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        given: Mapping[str, str],
        *,
        region: str,
        account_id: str,
        stack_name: str,
    ) -> None:
        self.template = template
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.partition, self.url_suffix = partition_of(region)
        self.resources: dict[str, Any] = dict(template.get("Resources") or {})
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
                return as_text(left) == as_text(right)
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
            name, top, second = (as_text(self.resolve(a, where)) for a in arg)
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
            return str(delimiter).join(as_text(v) for v in values)
        if key == "Fn::Split":
            delimiter, text = arg
            return as_text(self.resolve(text, where)).split(str(delimiter))
        if key == "Fn::Select":
            index, items = arg
            values = self.resolve(items, where)
            position = int(as_text(self.resolve(index, where)))
            if not isinstance(values, list) or not 0 <= position < len(values):
                raise TemplateEnvError(f"{where}: Fn::Select {position} out of {values!r}.")
            return values[position]
        if key == "Fn::GetAZs":
            region = as_text(self.resolve(arg, where)) or self.region
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::Base64":
            return base64.b64encode(as_text(self.resolve(arg, where)).encode()).decode()
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
                return as_text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return as_text(self.get_att(logical, attribute, where))
            return as_text(self.ref(name, where))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    # --- Ref and Fn::GetAtt -------------------------------------------------------

    def ref(self, name: str, where: str = "Ref") -> Any:
        """Pseudo parameters and parameters; resources are :meth:`resource_ref`'s."""
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/"
                f"{self.stack_name}/{uuid_of(self.stack_name)}"
            ),
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            value = self.parameters[name]
            if value is None:
                raise TemplateEnvError(
                    f"{where}: parameter {name} has no default; pass it in parameters."
                )
            return value
        if name in self.resources:
            return self.resource_ref(name, where)
        raise TemplateEnvError(f"{where}: Ref {name} names no parameter or resource.")

    def resource_ref(self, logical: str, where: str) -> Any:
        raise TemplateEnvError(f"{where}: Ref {logical}: resources are not resolved here.")

    def get_att(self, logical: str, attribute: str, where: str = "Fn::GetAtt") -> Any:
        raise TemplateEnvError(f"{where}: Fn::GetAtt {logical}.{attribute} is not resolved here.")
