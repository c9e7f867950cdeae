"""Deployments that pass the nine core invariants and still do harm or do nothing: `check`'s further
findings, each read with read-only calls.

* ``live_mode``: ``CLB_UNBIND_DRY_RUN=true`` on the live function plans every unbind and makes none,
  while its hooks still hold each leaving instance for the heartbeat.
* ``retry_queue``: unfinished work goes to ``CLB_UNBIND_RETRY_QUEUE`` (default: ``CLB_UNBIND_QUEUE``);
  only a timer run consumes a queue, and a timer run consumes exactly ``CLB_UNBIND_QUEUE``, so any
  other retry queue is a place work goes to and never comes back from.
* ``message_size``: the function fits every retry and dead-letter envelope into
  ``MAX_MESSAGE_BYTES`` (handler ``wire/envelopes.py``: 1 MiB, the CMQ maximum of ``MaxMsgSize``,
  tdmq ``CreateCmqQueueRequest.MaxMsgSize`` 1024-1048576); a queue with a smaller ``MaxMsgSize`` refuses
  the larger ones, and ``MaxMsgSize`` cannot be changed after creation
  (``ModifyCmqQueueAttributeRequest.MaxMsgSize``: "新版CMQ新建的队列默认1024KB，不支持修改").
* ``timer_code``: a timer bound to a published version, or to an alias whose versions are not the code
  of ``$LATEST``, runs old code however often setup uploads new code. A trigger names ``$LATEST``, a
  version or an alias in ``Qualifier``; ``GetAlias`` answers the alias's ``FunctionVersion`` and
  ``RoutingConfig`` (SDK scf ``GetAliasResponse``, ``RoutingConfig.AdditionalVersionWeights``,
  ``AddtionVersionMatchs``); ``GetFunction`` with ``Qualifier`` a version answers that version's
  ``Description``, where setup records the package's hash.
* ``envelope_secret``: ``CLB_UNBIND_ENVELOPE_SECRET`` keys the HMAC-SHA256 of every envelope the
  function writes; unset, nothing is signed and a redriven operator's notice is refused. RFC 2104 (section 3):
  keys shorter than the hash's output (32 bytes for SHA-256) are "strongly discouraged"; setup makes
  64 hex characters (32 random bytes).
"""
from __future__ import annotations

import re
import secrets as random_secrets
from typing import Any, Dict, List, Mapping, Optional, Sequence

from . import current
from .cloud import Cloud
from .desired import package_sha
from .findings import Finding
from .function_settings import handler_module

Json = Dict[str, Any]

ENVELOPE_SECRET = "CLB_UNBIND_ENVELOPE_SECRET"
MIN_ENVELOPE_SECRET_BYTES = 32
LATEST = "$LATEST"
NAMES = ("live_mode", "retry_queue", "message_size", "timer_code", "envelope_secret")


def new_envelope_secret() -> str:
    return random_secrets.token_hex(32)


def envelope_secret_ok(value: Optional[str]) -> bool:
    return bool(value) and len(value.encode("utf-8")) >= MIN_ENVELOPE_SECRET_BYTES


def _finding(name: str, ok: bool, detail: str, fix: str = "") -> Finding:
    return Finding(name, ok, detail, "" if ok else fix)


def live_mode(env: Mapping[str, str]) -> Any:
    raw = (env.get("CLB_UNBIND_DRY_RUN") or "").strip()
    on = raw.lower() in ("1", "true", "yes", "on")
    return _finding("live_mode", not on,
                    f"CLB_UNBIND_DRY_RUN={raw}: every run plans its unbinds and makes none, while the hooks hold each "
                    f"leaving instance for the whole heartbeat" if on else
                    f"the function unbinds for real (CLB_UNBIND_DRY_RUN {raw or 'unset'})",
                    "remove CLB_UNBIND_DRY_RUN from the function's environment (console, or UpdateFunctionConfiguration); "
                    "setup keeps variables it does not own")


def retry_queue(cloud: Cloud, env: Mapping[str, str], consumed: Optional[str]) -> Any:
    queue = (env.get("CLB_UNBIND_QUEUE") or "").strip()
    retry = (env.get("CLB_UNBIND_RETRY_QUEUE") or "").strip() or queue
    if not retry:
        return _finding("retry_queue", False, "no CLB_UNBIND_RETRY_QUEUE and no CLB_UNBIND_QUEUE: unfinished work has "
                                              "nowhere to wait", "run `make setup GROUPS=\"asg-…\"`")
    problems = []
    if retry != consumed:
        problems.append(f"CLB_UNBIND_RETRY_QUEUE={retry} is not the queue a timer run consumes "
                        f"({consumed or 'none: no enabled timer'}): retried work would never come back")
    if current.queue(cloud, retry) is None:
        problems.append(f"queue {retry} does not exist")
    return _finding("retry_queue", not problems,
                    f"retries go to {retry}, which the timer runs consume" if not problems else "; ".join(problems),
                    f"remove CLB_UNBIND_RETRY_QUEUE from the function's environment (retries then go to {queue or 'CLB_UNBIND_QUEUE'}), "
                    f"or run `make setup GROUPS=\"asg-…\"`")


def message_size(cloud: Cloud, names: Sequence[str]) -> Any:
    limit = handler_module("wire.envelopes").MAX_MESSAGE_BYTES
    small, seen = [], []
    for name in dict.fromkeys(n for n in names if n):
        q = current.queue(cloud, name)
        if q is None:
            continue
        size = int(q.get("MaxMsgSize") or 0)
        seen.append(f"{name} {size}")
        if size < limit:
            small.append(f"{name} has MaxMsgSize {size} bytes, below the {limit} bytes an envelope may take")
    return _finding("message_size", not small,
                    f"MaxMsgSize holds a {limit}-byte envelope: {', '.join(seen) or 'no queue to read'}" if not small
                    else "; ".join(small),
                    "MaxMsgSize cannot be changed: create the queue again with MaxMsgSize 1048576 (delete it when it is "
                    "empty, then run `make setup GROUPS=\"asg-…\"`)")


def _versions(cloud: Cloud, function: str, namespace: str, qualifier: str) -> List[str]:
    if qualifier == LATEST or re.fullmatch(r"\d+", qualifier):
        return [qualifier]
    alias = cloud.read_or_none("scf", "GetAlias", {"FunctionName": function, "Name": qualifier, "Namespace": namespace},
                               "ResourceNotFound")
    if alias is None:
        return []
    routing = alias.get("RoutingConfig") or {}
    extra = [w.get("Version") for w in (routing.get("AdditionalVersionWeights") or []) + (routing.get("AddtionVersionMatchs") or [])]
    return [v for v in [alias.get("FunctionVersion"), *extra] if v]


def timer_code(cloud: Cloud, fn: Json, namespace: str, timers: Sequence[Json]) -> Any:
    function = str(fn.get("FunctionName") or "")
    latest = package_sha(fn.get("Description"))
    problems, seen = [], []
    for t in timers:
        qualifier = str(t.get("Qualifier") or LATEST)
        versions = _versions(cloud, function, namespace, qualifier)
        if not versions:
            problems.append(f"timer {t.get('TriggerName')} is bound to {qualifier}, which does not exist")
        for v in versions:
            if v == LATEST:
                seen.append(f"{t.get('TriggerName')} -> {qualifier} -> $LATEST")
                continue
            got = cloud.read_or_none("scf", "GetFunction", {"FunctionName": function, "Namespace": namespace, "Qualifier": v},
                                     "ResourceNotFound")
            sha = package_sha((got or {}).get("Description"))
            if sha is None or sha != latest:
                problems.append(f"timer {t.get('TriggerName')} runs version {v} (via {qualifier}), package sha256 "
                                f"{(sha or 'unknown')[:12]}, while $LATEST holds {(latest or 'unknown')[:12]}: "
                                f"new code that setup uploads never runs")
            else:
                seen.append(f"{t.get('TriggerName')} -> {qualifier} -> version {v} (the code of $LATEST)")
    return _finding("timer_code", not problems and bool(timers),
                    "; ".join(problems) if problems else (", ".join(seen) or "no enabled timer"),
                    "run `make setup GROUPS=\"asg-…\"` to point the timer at the newest code; if an older version runs "
                    "on purpose (a rollback), this stays red until the next setup")


def envelope_secret(env: Mapping[str, str]) -> Any:
    value = env.get(ENVELOPE_SECRET)
    if envelope_secret_ok(value):
        return _finding("envelope_secret", True, f"{ENVELOPE_SECRET} is set ({len(value.encode('utf-8'))} bytes)")
    detail = (f"{ENVELOPE_SECRET} is not set: no envelope is signed, so a redriven operator's notice is refused"
              if not value else f"{ENVELOPE_SECRET} is {len(value.encode('utf-8'))} bytes, shorter than "
                                f"{MIN_ENVELOPE_SECRET_BYTES} (RFC 2104: shorter than the hash's output)")
    return _finding("envelope_secret", False, detail,
                    f"run `make setup GROUPS=\"asg-…\"` (it sets a new 64-character {ENVELOPE_SECRET}; envelopes signed "
                    f"with an old one are then read as unsigned)")
