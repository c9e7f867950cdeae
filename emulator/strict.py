"""Validate requests and replies against the SDK's own models.

The SDK models (``tencentcloud/<svc>/<ver>/models.py``) are the ground truth for field names and
types. Each model's ``__init__`` docstring lists every field as ``:param _Name:`` / ``:type Name:``
with types ``str``, ``int``, ``float``, ``bool``, ``list of <T>`` or ``:class:`module.Model```;
the instance attributes (``vars(Model())``) are the authoritative field set.

* Requests: a key the model does not know → ``UnknownParameter``; a value of the wrong JSON type →
  ``InvalidParameter`` naming the field (both are common error codes; the real gateway rejects
  undefined parameters, "用户多传未定义的参数会导致错误").
* Replies: :func:`reply_problems` lists every key that is not an attribute of the response model
  (recursively) or has the wrong type, so the emulator never emits what the SDK would drop with a
  "fileds are useless" warning.
"""
from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import INVALID_PARAMETER, UNKNOWN_PARAMETER, ApiError

_SCALARS = {"str", "int", "float", "bool"}
_TYPE_NAMES = {"str": "String", "int": "Integer", "float": "Float", "bool": "Boolean"}


@dataclass(frozen=True)
class FieldSpec:
    """One field of an SDK model: its scalar kind or nested model, and whether it is a list."""

    name: str
    kind: str  # "str" | "int" | "float" | "bool" | "model" | "any"
    is_list: bool
    model: Any = None

    def describe(self) -> str:
        base = self.model.__name__ if self.kind == "model" else _TYPE_NAMES.get(self.kind, "Any")
        return f"Array of {base}" if self.is_list else base


def models_module(module_name: str):
    return importlib.import_module(module_name)


@lru_cache(maxsize=None)
def schema(cls: type) -> dict[str, FieldSpec]:
    """Field specs of an SDK model class, parsed from its ``__init__`` docstring."""
    module = inspect.getmodule(cls)
    doc = cls.__init__.__doc__ or ""
    declared: dict[str, str] = {}
    for match in re.finditer(r":type (\w+): ([^\n]+)", doc):
        declared[match.group(1)] = match.group(2).strip()
    fields: dict[str, FieldSpec] = {}
    for attr in vars(cls()):
        if not attr.startswith("_") or attr == "_headers":
            continue
        name = attr[1:]
        fields[name] = _parse_type(name, declared.get(name, ""), module)
    return fields


def _parse_type(name: str, text: str, module) -> FieldSpec:
    is_list = text.startswith("list of ")
    base = text[len("list of "):] if is_list else text
    base = base.split()[0] if base else ""
    if base in _SCALARS:
        return FieldSpec(name, base, is_list)
    m = re.match(r":class:`([\w.]+)\.(\w+)`", base)
    if m:
        target = importlib.import_module(m.group(1))
        return FieldSpec(name, "model", is_list, getattr(target, m.group(2)))
    if base and hasattr(module, base) and inspect.isclass(getattr(module, base)):
        return FieldSpec(name, "model", is_list, getattr(module, base))
    return FieldSpec(name, "any", is_list)


def _scalar_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    return True


def check_request(cls: type, params: Any, prefix: str = "") -> None:
    """Raise ``UnknownParameter``/``InvalidParameter`` unless ``params`` fits the request model.

    Parameter paths are reported the way the API documents them (``Targets.0.Port``).
    ``null`` values count as absent, as the SDK never serialises ``None``.
    """
    if not isinstance(params, dict):
        raise ApiError(INVALID_PARAMETER, f"The parameter `{prefix.rstrip('.') or 'body'}` should be an object.")
    fields = schema(cls)
    for key, value in params.items():
        spec = fields.get(key)
        path = f"{prefix}{key}"
        if spec is None:
            raise ApiError(UNKNOWN_PARAMETER, f"The parameter `{path}` is not recognized.")
        if value is None:
            continue
        if spec.is_list:
            if not isinstance(value, list):
                raise _type_error(path, spec)
            for i, item in enumerate(value):
                _check_value(spec, item, f"{path}.{i}")
        else:
            _check_value(spec, value, path)


def _check_value(spec: FieldSpec, value: Any, path: str) -> None:
    if value is None:
        return
    if spec.kind == "model":
        if not isinstance(value, dict):
            raise _type_error(path, spec)
        check_request(spec.model, value, path + ".")
    elif not _scalar_ok(spec.kind, value):
        raise _type_error(path, spec)


def _type_error(path: str, spec: FieldSpec) -> ApiError:
    return ApiError(INVALID_PARAMETER, f"The parameter `{path}` type error, it should be {spec.describe()}.")


def reply_problems(cls: type, data: Any, prefix: str = "") -> list[str]:
    """Every key of ``data`` that the response model ``cls`` would not accept, with the reason."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return [f"{prefix or 'Response'} is not an object"]
    fields = schema(cls)
    for key, value in data.items():
        path = f"{prefix}{key}"
        spec = fields.get(key)
        if spec is None:
            problems.append(f"{path}: not an attribute of {cls.__name__}")
            continue
        if value is None:
            continue
        items = value if spec.is_list else [value]
        if spec.is_list and not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            continue
        for i, item in enumerate(items):
            where = f"{path}.{i}" if spec.is_list else path
            if item is None:
                continue
            if spec.kind == "model":
                problems.extend(reply_problems(spec.model, item, where + "."))
            elif not _scalar_ok(spec.kind, item):
                problems.append(f"{where}: expected {spec.kind}, got {type(item).__name__}")
    return problems


def model_class(module_name: str, name: str) -> type:
    return getattr(models_module(module_name), name)
