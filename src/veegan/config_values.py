"""Configuration values as they arrive from YAML files and ``--set key=value``: parsed, merged,
checked against a dataclass's annotations, and written back as plain YAML (:mod:`veegan.config`
holds the dataclasses themselves)."""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import VeeganError


def plain(value: Any) -> Any:
    """Tuples become lists so that YAML and JSON hold plain types."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def coerce(value: Any, annotation: Any, key: str) -> Any:
    """Convert ``value`` (from YAML or a ``--set`` string) to the annotated type, or raise."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):  # only "X | None" is used
        if value is None or (isinstance(value, str) and value.lower() in ("null", "none", "")):
            return None
        return coerce(value, next(a for a in args if a is not type(None)), key)
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise VeeganError(f"{key} must be a list such as 128,128, got {value!r}")
        return tuple(coerce(v.strip() if isinstance(v, str) else v, args[0], key) for v in items)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                pass
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif annotation is str:
        if isinstance(value, str):
            return value
    else:
        return value
    name = getattr(annotation, "__name__", str(annotation))
    raise VeeganError(f"{key} must be of type {name}, got {value!r}")


def build_dataclass(cls: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    """Build ``cls`` from a mapping, recursing into nested dataclasses; unknown keys are errors."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        full = prefix + key
        if key not in hints:
            raise VeeganError(f"unknown configuration key {full!r}; valid keys here: {', '.join(names)}")
        annotation = hints[key]
        if dataclasses.is_dataclass(annotation):
            if not isinstance(value, Mapping):
                raise VeeganError(f"{full} must be a mapping of its fields")
            kwargs[key] = build_dataclass(annotation, value, prefix=full + ".")
        elif typing.get_origin(annotation) is dict:
            if not isinstance(value, Mapping):
                raise VeeganError(f"{full} must be a mapping")
            kwargs[key] = dict(value)
        else:
            kwargs[key] = coerce(value, annotation, full)
    return cls(**kwargs)


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``["optim.lr_generator=2e-4", "steps=100"]`` -> nested dict of strings."""
    nested: dict[str, Any] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise VeeganError(f"--set expects key=value, got {item!r}")
        node = nested
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise VeeganError(f"--set {key}: {part} is not a section")
        node[leaf] = value
    return nested


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dictionary update (override wins)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise VeeganError(f"cannot read configuration file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise VeeganError(f"configuration file {path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise VeeganError(f"configuration file {path} must hold a mapping of keys to values")
    return data


def write_yaml(config: Any, path: Path) -> None:
    """Write a configuration (anything with ``to_dict``) as YAML, in its fields' order."""
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
