"""Read ``template.yaml`` (CloudFormation short tags included) for local tools and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader reading ``!Ref X`` as ``{"Ref": "X"}`` and ``!Sub s`` as ``{"Fn::Sub": s}``."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)  # type: ignore[no-untyped-call]


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader
    return loaded


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: res
        for name, res in (template.get("Resources") or {}).items()
        if res.get("Type") == kind
    }


def parameter_default(template: dict[str, Any], name: str) -> Any:
    return ((template.get("Parameters") or {}).get(name) or {}).get("Default")


def default_value(template: dict[str, Any], node: Any) -> Any:
    """``node`` as the template's defaults make it, for values a local tool reads.

    A literal is itself; ``Ref`` of a parameter is its ``Default``;
    ``Fn::FindInMap`` is looked up with its keys resolved the same way (the
    acta queue's ``maxReceiveCount``, the Acta function's ``Timeout``).
    Anything else (a resource's ``Ref``, ``Fn::Sub``, ...) raises ValueError:
    use :class:`voxlocal.template_env.Stack` for those.
    """
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in (template.get("Parameters") or {}):
        return parameter_default(template, node["Ref"])
    if set(node) == {"Fn::FindInMap"}:
        name, top, second = (str(default_value(template, key)) for key in node["Fn::FindInMap"])
        return template["Mappings"][name][top][second]
    raise ValueError(f"{node!r} is not a literal, a parameter or a mapping of them.")
