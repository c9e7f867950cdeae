"""Releases: every `make setup` that changes the function publishes a version, and the timer fires an
alias that points at it, so that a rollback is one ``UpdateAlias`` and nothing else.

SCF's model (sources):
* ``PublishVersion`` (doc 583/37161) freezes $LATEST's code and configuration as a numbered version,
  1 upwards; a published version has no triggers (doc 583/15371, "A newly published function version
  does not have any triggers");
* an alias points at one main version (``CreateAlias`` doc 583/44164, ``UpdateAlias`` doc 583/44161,
  ``GetAlias``); a trigger may be bound to an alias, and then fires whatever version the alias points at
  (doc 583/36149, "别名的触发器": "触发器的调用将经过别名，并依据别名的路由配置拉起具体的版本执行");
* a trigger's ``Qualifier`` is fixed when it is created (``UpdateTriggerRequest.Qualifier``: "触发器创建时
  所指向的函数版本或别名"), so a timer bound elsewhere ($DEFAULT, as earlier setups made it) is deleted
  and created again on the alias (``DeleteTrigger``, ``CreateTrigger``);
* ``ListVersionByFunction`` pages the versions (Offset, Limit ≤ 100 here; ``FunctionVersion`` model:
  ``Version``, ``Description``, ``Status``).

How setup knows a version is the package it would publish: the version's ``Description`` records the
package's SHA-256 and a digest of the configuration setup owns (handler, timeout, memory, role and
setup's environment variables), in the characters a Description allows. A version with that
Description is reused (the alias is pointed back at it: a setup with an older package is a rollback
that publishes nothing); otherwise setup publishes one after the function's own changes are applied.
UNCONFIRMED: whether a just-published version is usable by an alias before its ``Status`` is
``Active`` (the emulator makes it Active at once).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Dict, List, Optional, Tuple

from .cloud import ApiFailure, Cloud
from .desired import TRIGGER_QUALIFIER, Desired
from .plan import PlanError, Ref, Step, Write

Json = Dict[str, Any]
ALIAS = TRIGGER_QUALIFIER
"""The alias the timer fires (CreateAliasRequest.Name: a letter first, letters, digits, _ and -)."""
RELEASE_PREFIX = "Package sha256 "


class ReleaseError(Exception):
    """A rollback cannot be made; the message says why."""


def release_description(d: Desired) -> str:
    f = d.function
    owned = {"handler": f.handler, "timeout": f.timeout, "memory": f.memory, "role": f.role, "environment": f.environment}
    digest = hashlib.sha256(json.dumps(owned, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return f"{RELEASE_PREFIX}{f.code_sha}, settings {digest}"


def versions(cloud: Cloud, name: str, namespace: str) -> List[Json]:
    """Published versions, oldest first ($LATEST left out)."""
    found: List[Json] = []
    offset = 0
    while True:
        reply = cloud.read("scf", "ListVersionByFunction", {"FunctionName": name, "Namespace": namespace, "Offset": offset,
                                                            "Limit": 100, "Order": "ASC", "OrderBy": "AddTime"})
        page = reply.get("Versions") or []
        offset += len(page)
        found += [v for v in page if str(v.get("Version")) != "$LATEST"]
        if not page or offset >= int(reply.get("TotalCount") or 0):
            return sorted(found, key=lambda v: int(v["Version"]) if str(v["Version"]).isdigit() else 0)


def alias(cloud: Cloud, name: str, namespace: str, alias_name: str = ALIAS) -> Optional[Json]:
    return cloud.read_or_none("scf", "GetAlias", {"FunctionName": name, "Namespace": namespace, "Name": alias_name},
                              "ResourceNotFound")


def release_steps(cloud: Cloud, d: Desired, function_exists: bool) -> List[Step]:
    """The version step (publish, or reuse the version of this package) and the alias step."""
    f = d.function
    wanted = release_description(d)
    live = alias(cloud, f.name, f.namespace) if function_exists else None
    published = versions(cloud, f.name, f.namespace) if function_exists else []
    steps: List[Step] = []
    target: Any
    if d.inputs.version:
        target = str(d.inputs.version)
        if target not in {str(v["Version"]) for v in published}:
            have = ", ".join(str(v["Version"]) for v in published) or "none"
            raise PlanError(f"function {f.name} has no version {target} (published: {have})")
        steps.append(Step(f"version {target} of {f.name}", "unchanged", [f"kept: --version {target} asked for it"]))
    else:
        match = [v for v in published if v.get("Description") == wanted]
        if match:
            target = str(match[-1]["Version"])
            steps.append(Step(f"version {target} of {f.name}", "unchanged"))
        else:
            target = Ref("version")
            steps.append(Step(f"new version of {f.name}", "create", [f"PublishVersion of $LATEST: {wanted}"],
                              [Write("scf", "PublishVersion", {"FunctionName": f.name, "Namespace": f.namespace,
                                                               "Description": wanted},
                                     saves=("FunctionVersion", "version"))]))
    shown = "the new version" if isinstance(target, Ref) else target
    params = {"FunctionName": f.name, "Namespace": f.namespace, "Name": ALIAS, "FunctionVersion": target}
    resource = f"alias {ALIAS} of {f.name} (the timer fires it)"
    if live is None:
        steps.append(Step(resource, "create", [f"-> {shown}"], [Write("scf", "CreateAlias", params)]))
    elif isinstance(target, Ref) or str(live.get("FunctionVersion")) != target:
        steps.append(Step(resource, "update", [f"{live.get('FunctionVersion')} -> {shown}"],
                          [Write("scf", "UpdateAlias", params)]))
    else:
        steps.append(Step(resource, "unchanged"))
    return steps


def alias_change(steps: List[Step]) -> Optional[str]:
    """'from -> to' of the alias step, for setup's last lines."""
    for step in steps:
        if step.resource.startswith(f"alias {ALIAS} ") and step.kind != "unchanged":
            return step.changes[0] if step.changes else None
    return None


def rollback(cloud: Cloud, function: str, namespace: str, version: Optional[str], say: Callable[[str], None]) -> int:
    """Point the alias at ``version`` (default: the newest version older than the one it points at).
    One write, ``UpdateAlias``; 0 done or planned, 1 it failed, 2 nothing to roll back to."""
    try:
        current, target = _rollback_target(cloud, function, namespace, version)
    except ReleaseError as exc:
        say(f"rollback: {exc}")
        return 2
    say(f"rollback of {function}: alias {ALIAS} (the timer fires it) points at version {current}; moving it to {target}"
        + (" (dry run: no write call)" if cloud.dry_run else ""))
    if current == target:
        say(f"alias {ALIAS} already points at {target}: nothing to do")
        return 0
    try:
        cloud.write("scf", "UpdateAlias", {"FunctionName": function, "Namespace": namespace, "Name": ALIAS,
                                           "FunctionVersion": target})
    except ApiFailure as exc:
        say(f"rollback: {exc}; the alias still points at {current}")
        return 1
    if cloud.dry_run:
        say(f"1 write call planned: scf:UpdateAlias {ALIAS} {current} -> {target}; none made (dry run)")
        return 0
    say(f"alias {ALIAS} now points at version {target}; the next timer run runs it. Undo: `make rollback VERSION={current}`. "
        f"A later `make setup` points it at the version of the package you build (or pass VERSION= to setup).")
    return 0


def _rollback_target(cloud: Cloud, function: str, namespace: str, version: Optional[str]) -> Tuple[str, str]:
    live = alias(cloud, function, namespace)
    if live is None:
        raise ReleaseError(f"function {function} has no alias {ALIAS}: run `make setup` first (it publishes a version "
                           f"and points the timer at the alias)")
    current = str(live.get("FunctionVersion"))
    published = [str(v["Version"]) for v in versions(cloud, function, namespace)]
    if version:
        if version not in published:
            raise ReleaseError(f"function {function} has no version {version} (published: {', '.join(published) or 'none'})")
        return current, version
    older = [v for v in published if v.isdigit() and current.isdigit() and int(v) < int(current)]
    if not older:
        raise ReleaseError(f"no version older than {current} to roll back to (published: {', '.join(published) or 'none'})")
    return current, older[-1]


def version_lines(cloud: Cloud, function: str, namespace: str) -> List[str]:
    """One line per published version, the alias's marked (for `rollback --list`)."""
    live = alias(cloud, function, namespace) or {}
    return [f"{'*' if str(v['Version']) == str(live.get('FunctionVersion')) else ' '} version {v['Version']}: "
            f"{v.get('Description') or ''} ({v.get('AddTime') or ''})" for v in versions(cloud, function, namespace)]
