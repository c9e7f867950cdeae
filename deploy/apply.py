"""Applying a plan: each step's writes in order, values from earlier replies filled in.

SCF works on a function asynchronously: after ``CreateFunction`` / ``UpdateFunctionCode`` /
``UpdateFunctionConfiguration`` the function's ``Status`` is ``Creating`` / ``Updating`` until it is
``Active``, and a further change before that is refused (``GetFunctionResponse.Status``, status values
in doc 583/115197; that a second update is refused while one is running is UNCONFIRMED). So after each
of those writes the function is read until it is ``Active`` or has failed.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

from .cloud import Cloud
from .plan import Ref, Step, Write

ACTIVE_WAIT_SECONDS = 120.0


class ApplyError(Exception):
    pass


def _resolve(value: Any, ctx: Dict[str, Any]) -> Any:
    if isinstance(value, Ref):
        return ctx[value.name]
    if callable(getattr(value, "resolve", None)):  # text built from earlier answers (watching.JsonText)
        return value.resolve(lambda v: _resolve(v, ctx))
    if isinstance(value, dict):
        return {k: _resolve(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, ctx) for v in value]
    return value


def wait_active(cloud: Cloud, name: str, namespace: str, sleep: Callable[[float], None] = time.sleep,
                limit: float = ACTIVE_WAIT_SECONDS) -> None:
    started = time.monotonic()
    pause = 0.5
    while True:
        fn = cloud.read("scf", "GetFunction", {"FunctionName": name, "Namespace": namespace})
        status = fn.get("Status") or "Active"
        if status == "Active":
            return
        if status.endswith("Failed"):
            raise ApplyError(f"function {name} is {status}: {fn.get('StatusDesc') or ''}".strip())
        if time.monotonic() - started > limit:
            raise ApplyError(f"function {name} still {status} after {limit:g} s")
        sleep(pause)
        pause = min(pause * 2, 5.0)


def apply(cloud: Cloud, steps: List[Step], say: Callable[[str], None] = print) -> int:
    """Run every write of every step that is not unchanged; returns how many writes were sent."""
    ctx: Dict[str, Any] = {}
    sent = 0
    for step in steps:
        for write in step.writes if step.kind != "unchanged" else []:
            reply = cloud.write(write.service, write.action, _resolve(write.params, ctx))
            sent += 1
            if write.saves:
                field, name = write.saves
                ctx[name] = reply.get(field)
            if write.waits_for_function and not cloud.dry_run:
                wait_active(cloud, write.params["FunctionName"], write.params.get("Namespace", "default"))
        if step.kind != "unchanged":
            say(f"  done     {step.resource}")
    return sent


def pending(steps: List[Step]) -> List[Write]:
    return [w for s in steps if s.kind != "unchanged" for w in s.writes]
