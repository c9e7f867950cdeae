"""Tencent's API specification (tccli's ``api.json``, :mod:`tools.tccli_spec`) as the judge of every
API 3.0 request the emulator receives and every reply it sends.

The SDK models (:mod:`emulator.strict`) say which members exist and their Python types; ``api.json``
also says which are required in a request (``required``), which a reply must carry
(``output_required``), which may be ``null`` (``value_allowed_null``), whether an action is online
(``status``), and, in the action's ``document``, whether it is asynchronous ("本接口为异步接口").

* :func:`request_problems` — the action is known and ``online``; every member is known (and not
  ``disabled``), with the right type, recursively; every required member is present. The emulator
  records these (:data:`JOURNAL`) without refusing: the tests fail on them (tests/conftest.py), as a
  request the project sends must be right before any emulated behaviour matters.
* :func:`reply_problems` — no unknown member, no wrong type, ``null`` only where allowed, every
  ``output_required`` member present. A problem is an emulator bug (answered ``InternalError``).
* :func:`nullify` — the ``spec_nulls`` knob: every member marked ``value_allowed_null`` comes back
  ``null``, recursively, so the reading code meets what the spec allows.
* :func:`asynchronous` — the rule for tasks: an action is a task to poll iff its ``document`` says
  "异步接口" (docs/testing-spec.md).

Observations go to :data:`JOURNAL` (this process) and, when ``TCCLI_SPEC_JOURNAL`` names a file,
as JSON lines to it (emulators run as their own process, e.g. by the bench and the demo); a process
writes each distinct observation once.
"""
from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from tools import tccli_spec

from .spec_fill import CONDITIONAL

JOURNAL_ENV = "TCCLI_SPEC_JOURNAL"
ASYNC_MARK = re.compile(r"异步接口")
_STRINGS = {"string", "datetime", "datetime_iso", "date", "binary"}
_INTS = {"int64", "uint64", "int"}


@dataclass(frozen=True)
class Observation:
    """One judged API 3.0 call: what was checked and what was wrong."""

    service: str
    version: str
    action: str
    request_problems: Tuple[str, ...] = ()
    reply_problems: Tuple[str, ...] = ()
    request_members: Tuple[str, ...] = ()
    reply_members: Tuple[str, ...] = ()
    nulled: Tuple[str, ...] = ()
    filled: Tuple[str, ...] = ()
    example: Optional[str] = None  # the title of the examples.json reply sent instead (knob spec_examples)
    example_problems: Tuple[str, ...] = ()
    error_code: Optional[str] = None
    pid: int = field(default_factory=os.getpid)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Observation":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


JOURNAL: List[Observation] = []
_journal_lock = threading.Lock()
_written: set = set()


def record(obs: Observation) -> None:
    with _journal_lock:
        JOURNAL.append(obs)
        path = os.environ.get(JOURNAL_ENV)
        key = (obs.service, obs.action, obs.request_problems, obs.reply_problems, obs.request_members,
               obs.reply_members, obs.nulled, obs.filled, obs.example, obs.example_problems)
        if path and key not in _written:
            _written.add(key)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(asdict(obs), ensure_ascii=False) + "\n")


def read_journal_file(path: str, offset: int = 0) -> Tuple[List[Observation], int]:
    """Observations appended to ``path`` from byte ``offset`` on, and the new offset."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    lines = data[:end].decode("utf-8").splitlines()
    return [Observation.from_dict(json.loads(line)) for line in lines if line.strip()], offset + end


# ----------------------------------------------------------------------------------- the spec
@lru_cache(maxsize=None)
def _api(service: str, version: str) -> Optional[Dict[str, Any]]:
    return tccli_spec.api(service, version)


@lru_cache(maxsize=None)
def _members(service: str, version: str, obj: str) -> Dict[str, Dict[str, Any]]:
    api = _api(service, version) or {}
    return {m["name"]: m for m in api.get("objects", {}).get(obj, {}).get("members", [])}


def action_spec(service: str, version: str, action: str) -> Optional[Dict[str, Any]]:
    api = _api(service, version)
    return None if api is None else api["actions"].get(action)


def asynchronous(service: str, version: str, action: str) -> bool:
    """Whether api.json documents the action as asynchronous ("本接口为异步接口" and its variants):
    its change is done when a task poll says so, not when it answers."""
    spec = action_spec(service, version, action)
    if spec is None:
        raise KeyError(f"{service} {version} has no action {action} in {tccli_spec.source(service, version)}")
    return bool(ASYNC_MARK.search(spec.get("document", "")))


def _kind_ok(member: Dict[str, Any], value: Any) -> bool:
    kind = member["member"]
    if kind in _STRINGS:
        return isinstance(value, str)
    if kind in _INTS:
        return isinstance(value, int) and not isinstance(value, bool) and (kind != "uint64" or value >= 0)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, dict)  # an object of the spec


class _Walk:
    """One recursive check of a value against an object of api.json (``direction`` "in" or "out")."""

    def __init__(self, service: str, version: str, direction: str) -> None:
        self.service, self.version, self.direction = service, version, direction
        self.problems: List[str] = []
        self.members: set = set()

    def object(self, obj: str, data: Any, path: str, shape: str) -> None:
        if not isinstance(data, dict):
            self.problems.append(f"{path.rstrip('.') or obj}: expected an object ({obj}), got {type(data).__name__}")
            return
        members = _members(self.service, self.version, obj)
        for name, value in data.items():
            where = f"{path}{name}"
            member = members.get(name)
            if member is None:
                self.problems.append(f"{where}: not a member of {obj}")
                continue
            self.members.add(f"{shape}{name}")
            if member.get("disabled") and self.direction == "in":
                self.problems.append(f"{where}: disabled in api.json")
            self.value(member, value, where, f"{shape}{name}")
        for name, member in members.items():
            needed = member.get("required") if self.direction == "in" else (
                member.get("output_required") and name not in CONDITIONAL.get(self.service, {}).get(obj, ()))
            if needed and data.get(name) is None and (self.direction == "in" or name not in data):
                self.problems.append(f"{path}{name}: required ({obj}) but missing")

    def value(self, member: Dict[str, Any], value: Any, where: str, shape: str) -> None:
        if value is None:
            if self.direction == "in":
                self.problems.append(f"{where}: null")
            elif not member.get("value_allowed_null") and member["name"] != "RequestId":
                self.problems.append(f"{where}: null, but api.json does not allow null here")
            return
        if member["type"] == "list":
            if not isinstance(value, list):
                self.problems.append(f"{where}: expected a list, got {type(value).__name__}")
                return
            items = enumerate(value)
        else:
            items = iter([(None, value)])
        for i, item in items:
            at = where if i is None else f"{where}.{i}"
            if item is None:
                self.problems.append(f"{at}: null item")
            elif not _kind_ok(member, item):
                self.problems.append(f"{at}: expected {member['member']}, got {type(item).__name__}")
            elif isinstance(item, dict):
                self.object(member["member"], item, at + ".", shape + ".")


def request_problems(service: str, version: str, action: str, params: Any) -> Tuple[List[str], set]:
    """(problems, member shapes checked) of one request body."""
    spec = action_spec(service, version, action)
    if spec is None:
        where = "no api.json" if _api(service, version) is None else "not an action of"
        return [f"{service} {version} {action}: {where} {tccli_spec.source(service, version)}"], set()
    walk = _Walk(service, version, "in")
    if spec.get("status") != "online":
        walk.problems.append(f"{action}: status {spec.get('status')!r} in api.json, not online")
    walk.object(spec["input"], params, "", "")
    return walk.problems, walk.members


def reply_problems(service: str, version: str, action: str, response: Dict[str, Any]) -> Tuple[List[str], set]:
    """(problems, member shapes checked) of one successful ``Response`` object."""
    spec = action_spec(service, version, action)
    if spec is None:
        return [f"{service} {version} {action}: not in {tccli_spec.source(service, version)}"], set()
    walk = _Walk(service, version, "out")
    walk.object(spec["output"], response, "", "")
    return walk.problems, walk.members


def nullify(service: str, version: str, action: str, response: Dict[str, Any],
            inner: bool = False) -> Tuple[Dict[str, Any], set]:
    """A copy of ``response`` with every member that api.json lets be null set to null, recursively
    (members present in the reply; an absent one already reads as null), and the shapes nulled.

    ``inner``: a nullable object (or list of objects) holding nullable members keeps its shape and has
    those nulled instead, so the nulls land on the innermost members (a target's ``Port``, not the list)."""
    spec = action_spec(service, version, action)
    nulled: set = set()
    if spec is None:
        return response, nulled

    def walk(obj: str, data: Dict[str, Any], shape: str) -> Dict[str, Any]:
        members = _members(service, version, obj)
        out: Dict[str, Any] = {}
        for name, value in data.items():
            member = members.get(name)
            if member is not None and member.get("value_allowed_null") and value is not None:
                kept = _inner(member, value, f"{shape}{name}.") if inner else None
                if kept is None:
                    out[name] = None
                    nulled.add(f"{shape}{name}")
                else:
                    out[name] = kept
            elif member is not None and isinstance(value, dict):
                out[name] = walk(member["member"], value, f"{shape}{name}.")
            elif member is not None and isinstance(value, list):
                out[name] = [walk(member["member"], v, f"{shape}{name}.") if isinstance(v, dict) else v for v in value]
            else:
                out[name] = value
        return out

    def _inner(member: Dict[str, Any], value: Any, shape: str) -> Any:
        """``value`` with its own nullable members nulled, or None when it has none present."""
        before = len(nulled)
        if isinstance(value, dict):
            kept: Any = walk(member["member"], value, shape)
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            kept = [walk(member["member"], v, shape) if isinstance(v, dict) else v for v in value]
        else:
            return None
        return kept if len(nulled) > before else None

    return walk(spec["output"], response, ""), nulled


def _empty(member: Dict[str, Any]) -> Any:
    """The zero value of ``member``'s type ("", 0, false, []); None for an object (built by the caller).
    Not api.json's ``example``: a made-up queue name or address must never pass for estate data."""
    kind = member["member"]
    if member["type"] == "list":
        return []
    if kind in _STRINGS:
        return ""
    if kind in _INTS:
        return 0
    if kind == "float":
        return 0.0
    if kind == "bool":
        return False
    return None


def fill(service: str, version: str, action: str, response: Dict[str, Any],
         unmodelled: Dict[str, frozenset]) -> Tuple[Dict[str, Any], set]:
    """Complete the ``output_required`` members the emulator does not model (``unmodelled``: object name
    → member names, :mod:`emulator.spec_fill`) that a reply lacks, or has null where api.json does not
    allow it: ``null`` where api.json allows it, else the zero value of its type; an object is built
    from its required members the same way. Returns the completed reply and the member shapes filled."""
    spec = action_spec(service, version, action)
    filled: set = set()
    if spec is None:
        return response, filled

    def build(obj: str, shape: str, depth: int) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for name, member in _members(service, version, obj).items():
            if member.get("output_required"):
                out[name] = value(member, f"{shape}{name}", depth)
        return out

    def value(member: Dict[str, Any], shape: str, depth: int) -> Any:
        filled.add(shape)
        if member.get("value_allowed_null"):
            return None
        plain = _empty(member)
        if plain is not None:
            return plain
        return build(member["member"], shape + ".", depth + 1) if depth < 4 else {}

    def walk(obj: str, data: Dict[str, Any], shape: str) -> Dict[str, Any]:
        members = _members(service, version, obj)
        out = dict(data)
        for name, member in members.items():
            lacking = name not in out or (out[name] is None and not member.get("value_allowed_null"))
            if lacking and member.get("output_required") and name in unmodelled.get(obj, ()):
                out[name] = value(member, f"{shape}{name}", 0)
            elif isinstance(out.get(name), dict):
                out[name] = walk(member["member"], out[name], f"{shape}{name}.")
            elif isinstance(out.get(name), list):
                out[name] = [walk(member["member"], v, f"{shape}{name}.") if isinstance(v, dict) else v
                             for v in out[name]]
        return out

    return walk(spec["output"], response, ""), filled


def example_reply(service: str, version: str, action: str) -> Optional[Tuple[str, Dict[str, Any]]]:
    """(title, ``Response`` object) of the first example reply of the action in examples.json, if any."""
    examples = tccli_spec.examples(service, version) or {}
    for example in examples.get("actions", {}).get(action, []):
        try:
            response = json.loads(example.get("output") or "")["Response"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(response, dict) and "Error" not in response:
            return str(example.get("title") or ""), response
    return None
