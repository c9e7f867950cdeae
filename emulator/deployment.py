"""The deployment slice of the emulated estate: SCF functions with their triggers and async invoke
config, and CAM roles and policies.

It hangs off the :class:`~emulator.estate.Estate` it belongs to (one slice per estate, created on
first use), so the scf and cam services need nothing else from the core and the estate file format is
unchanged: a test seeds it through :func:`of`. CAM is global; SCF functions are keyed by region and
namespace as the API scopes them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

_ATTR = "_deployment_slice"


def _now_text() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


@dataclass
class Trigger:
    name: str
    type: str
    desc: str
    """As ListTriggers answers it: a timer's is ``{"cron": "<expression>"}``."""
    enable: bool
    qualifier: str
    description: str = ""
    custom_argument: str = ""
    add_time: str = field(default_factory=_now_text)
    mod_time: str = field(default_factory=_now_text)


@dataclass
class Version:
    """A published version: a frozen copy of $LATEST's code and configuration (doc 583/15371), without
    the function's triggers."""

    version: str
    description: str
    code: bytes = field(repr=False)
    handler: str
    timeout: int
    memory: int
    runtime: str
    role: str
    environment: Dict[str, str]
    status: str = "Active"
    add_time: str = field(default_factory=_now_text)
    mod_time: str = field(default_factory=_now_text)


@dataclass
class Alias:
    name: str
    version: str
    description: str = ""
    routing: Dict[str, Any] = field(default_factory=dict)
    add_time: str = field(default_factory=_now_text)
    mod_time: str = field(default_factory=_now_text)


DEFAULT_ALIAS = "$DEFAULT"
LATEST = "$LATEST"


def _default_aliases() -> Dict[str, "Alias"]:
    """A new function has the alias $DEFAULT, pointing at $LATEST (doc 583/36149, 默认别名)."""
    return {DEFAULT_ALIAS: Alias(DEFAULT_ALIAS, LATEST)}


@dataclass
class Function:
    name: str
    namespace: str
    region: str
    function_id: str
    runtime: str
    handler: str
    timeout: int
    memory: int
    description: str
    role: str
    environment: Dict[str, str]
    code: bytes = field(repr=False, default=b"")
    type: str = "Event"
    status: str = "Active"
    triggers: Dict[str, Trigger] = field(default_factory=dict)
    async_retry_num: int = 2
    async_msg_ttl: int = 21600
    add_time: str = field(default_factory=_now_text)
    mod_time: str = field(default_factory=_now_text)
    code_updates: int = 0
    versions: Dict[str, Version] = field(default_factory=dict)
    last_version: int = 0
    aliases: Dict[str, Alias] = field(default_factory=_default_aliases)


@dataclass
class Role:
    role_id: str
    name: str
    document: str
    description: str = ""
    console_login: int = 0
    attached: List[int] = field(default_factory=list)
    add_time: str = field(default_factory=_now_text)
    update_time: str = field(default_factory=_now_text)


@dataclass
class Policy:
    policy_id: int
    name: str
    document: str
    description: str = ""
    add_time: str = field(default_factory=_now_text)
    update_time: str = field(default_factory=_now_text)


@dataclass
class Deployment:
    functions: Dict[Tuple[str, str, str], Function] = field(default_factory=dict)
    roles: Dict[str, Role] = field(default_factory=dict)
    policies: Dict[int, Policy] = field(default_factory=dict)
    namespaces: Tuple[str, ...] = ("default",)
    _seq: int = 4100000

    def next_id(self) -> int:
        self._seq += 1
        return self._seq

    def function(self, region: str, namespace: str, name: str) -> Optional[Function]:
        return self.functions.get((region, namespace or "default", name))

    def role_by_id_or_name(self, role_id: Optional[str], name: Optional[str]) -> Optional[Role]:
        if name:
            return self.roles.get(name)
        return next((r for r in self.roles.values() if r.role_id == role_id), None)

    def policy_by_name(self, name: str) -> Optional[Policy]:
        return next((p for p in self.policies.values() if p.name == name), None)


def of(estate: Any) -> Deployment:
    """The deployment slice of an estate (``emu._estate``), created empty on first use."""
    found = getattr(estate, _ATTR, None)
    if found is None:
        found = Deployment()
        setattr(estate, _ATTR, found)
    return found


def of_emulator(emu: Any) -> Deployment:
    """The slice of a running :class:`~emulator.core.Emulator`, for tests that seed or inspect it."""
    return of(emu._estate)
