"""Read template.yaml, the single source of truth for local resources, and resolve its intrinsics.

Only what the local stack needs: CloudFormation short tags become their long-form dicts
(`!Ref X` -> `{"Ref": "X"}`), and `resolve` evaluates Ref, Fn::Sub, Fn::GetAtt, Fn::Join (plus
Fn::Select, Fn::Split, Fn::If) against a flat context of parameters, pseudo parameters and the
attributes of resources created so far.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_NAME = "template.yaml"
FUNCTION_ID = "ArchiverFunction"

PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "post-archiver-local",
    "AWS::StackId": (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/post-archiver-local/00000000-0000-0000-0000-000000000000"
    ),
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}

# Returned for `!Ref AWS::NoValue`: the enclosing dict key or list item is dropped.
NO_VALUE = object()

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class TemplateError(Exception):
    """The template cannot be found, read or resolved for local use."""


class TemplateNotFound(TemplateError, FileNotFoundError):
    """No template.yaml in the start directory or any of its parents."""


class UnresolvedReference(TemplateError, KeyError):
    """A Ref or GetAtt names something the context does not (yet) have."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation short tags and keeps dates as strings."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)
# `AWSTemplateFormatVersion: 2010-09-09` must stay a string, as CloudFormation reads it.
_CloudFormationLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template, turning short tags into long-form intrinsic dicts."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            template = yaml.load(f, Loader=_CloudFormationLoader)  # a SafeLoader subclass
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"template {path} is not valid YAML: {exc}") from exc
    if not isinstance(template, dict) or "Resources" not in template:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return template


def find_template(start: Path | None = None) -> Path:
    """Return the nearest template.yaml in `start` (default: cwd) or one of its parents."""
    start = (start or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        candidate = directory / TEMPLATE_NAME
        if candidate.is_file():
            return candidate
    raise TemplateNotFound(
        f"no {TEMPLATE_NAME} found in {start} or its parents; "
        "run from the post-archiver checkout or pass the template path"
    )


def base_context(template: Mapping[str, Any], parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Context for `resolve`: pseudo parameters plus parameter defaults (overridden by `parameters`).

    Parameter values are strings, as CloudFormation hands them to Ref, even for Type: Number.
    """
    context: dict[str, Any] = dict(PSEUDO_PARAMETERS)
    for name, spec in (template.get("Parameters") or {}).items():
        if "Default" in spec:
            context[name] = str(spec["Default"])
    for name, value in (parameters or {}).items():
        context[name] = str(value)
    return context


def resolve(value: Any, context: Mapping[str, Any]) -> Any:
    """Evaluate the intrinsic functions in `value` (recursively) against `context`.

    `context` maps a parameter or logical id to its Ref value, and "LogicalId.Attribute" to
    its GetAtt value. Raises UnresolvedReference for names the context lacks.
    """
    if isinstance(value, list):
        items = [resolve(item, context) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return _ref(arg, context)
        if key == "Fn::GetAtt":
            return _get_att(arg, context)
        if key == "Fn::Sub":
            return _sub(arg, context)
        if key == "Fn::Join":
            delimiter, items = arg
            return str(delimiter).join(str(item) for item in resolve(items, context))
        if key == "Fn::Select":
            index, items = arg
            return resolve(items, context)[int(resolve(index, context))]
        if key == "Fn::Split":
            delimiter, text = arg
            return str(resolve(text, context)).split(delimiter)
        if key == "Fn::If":
            raise TemplateError(f"Fn::If on condition {arg[0]!r} is not supported locally")
        if key.startswith("Fn::"):
            raise TemplateError(f"intrinsic {key} is not supported locally")
    resolved = {key: resolve(item, context) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _ref(name: str, context: Mapping[str, Any]) -> Any:
    if name == "AWS::NoValue":
        return NO_VALUE
    try:
        return context[name]
    except KeyError:
        raise UnresolvedReference(f"!Ref {name}: no parameter or created resource of that name") from None


def _get_att(arg: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    logical_id, attribute = (resolve(part, context) for part in arg)
    key = f"{logical_id}.{attribute}"
    try:
        return context[key]
    except KeyError:
        raise UnresolvedReference(f"!GetAtt {key}: that resource attribute is not known locally") from None


def _sub(arg: Any, context: Mapping[str, Any]) -> str:
    if isinstance(arg, list):
        text, variables = arg
        context = {**context, **{k: resolve(v, context) for k, v in variables.items()}}
    else:
        text = arg

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):  # ${!Literal} stands for the text ${Literal}
            return "${" + name[1:] + "}"
        if name in context:
            return str(context[name])
        if "." in name:
            return str(_get_att(name, context))
        return str(_ref(name, context))

    return _SUB_VARIABLE.sub(replace, text)


def function_environment(
    template: Mapping[str, Any],
    resources: Mapping[str, Any],
    function_id: str = FUNCTION_ID,
) -> dict[str, str]:
    """The function's environment variables (Globals merged with its own), resolved to strings.

    `resources` is a resolve() context: parameters, pseudo parameters and created resources.
    The local runner sets these before calling the handler, as Lambda would.
    """
    globals_env = (template.get("Globals") or {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    function = template["Resources"].get(function_id)
    if function is None:
        raise TemplateError(f"template has no resource {function_id}")
    own_env = (function.get("Properties") or {}).get("Environment", {}).get("Variables", {})
    context = {**base_context(template), **resources}
    variables = resolve({**globals_env, **own_env}, context)
    return {name: str(value) for name, value in variables.items()}
