"""Shared plumbing for the service modules: the per-call context and parameter helpers.

A service module sees the emulator only through :class:`Ctx`, which carries explicit objects (the
estate, the knobs, the task board, the random generator, the queue broker) and the call's identity.
Nothing here knows the :class:`~emulator.core.Emulator`, so imports run one way:
core → services → common → (estate, tasks, faults, cmq.broker).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ..errors import INVALID_PARAMETER_VALUE, ApiError, missing
from ..faults import Knobs
from ..tasks import Op, Task, TaskBoard

if TYPE_CHECKING:  # pragma: no cover
    from ..cmq.broker import Broker
    from ..estate import Estate, LoadBalancer


Handler = Callable[["Ctx", dict], dict]


@dataclass(frozen=True)
class ActionSpec:
    """One emulated action: its handler, its SDK request model name, and whether it writes.

    ``write`` actions are subject to ``drop_reply_rate``; ``lb_write`` ones also to ``busy_rate`` and
    to the running-task lock.
    """

    handler: Handler
    write: bool = False
    lb_write: bool = False


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    version: str
    models: str
    actions: dict[str, ActionSpec]
    region_required: bool = True


class EmulatorView(Protocol):
    """The emulator as ``ctx.emu`` shows it, for code outside the handlers that observes calls
    (``chaos/runner.py`` keys observers by ``id(ctx.emu)`` and reads ``ctx.emu.bindings``).

    ``_tasks`` is still read by clb.py and ecm.py (``ctx.emu._tasks.get``); new code uses ``ctx.tasks``.
    """

    _tasks: TaskBoard

    def bindings(self, instance_or_ip: str) -> list[dict[str, Any]]: ...


@dataclass
class Ctx:
    """What an action handler may use: the estate, knobs, randomness, tasks, and the call's identity.

    ``now`` is the monotonic clock (tasks, locks), ``wall`` Unix time (timestamps in replies).
    """

    estate: "Estate"
    knobs: Knobs
    tasks: TaskBoard
    rng: random.Random
    service: str
    action: str
    region: str
    request_id: str
    now: float
    wall: float
    next_msg_id: Callable[[], int]
    queues: "Broker"
    emu: EmulatorView

    def roll(self, rate: float) -> bool:
        """A random event of probability ``rate``, drawn from the emulator's one seeded generator."""
        return rate > 0 and self.rng.random() < rate

    def faulty(self, rate: float) -> bool:
        """:meth:`roll`, limited to the actions named by the ``fault_actions`` knob."""
        return self.knobs.applies_to(self.service, self.action) and self.roll(rate)

    def ensure_writable(self, lb: "LoadBalancer", busy_code: str) -> None:
        """Refuse a write to a load balancer that is running a task (or, by ``busy_rate``, pretend it is)."""
        message = f"LoadBalancer {lb.lb_id} is in operation, please try again later."
        if self.tasks.busy(lb.lb_id, self.now):
            raise ApiError(busy_code, message)
        if self.faulty(self.knobs.busy_rate):
            raise ApiError(busy_code, message)

    def start_task(self, lb_id: str, ops: list[Op]) -> Task:
        """Start the task named by this call's RequestId; ``ops`` run when it ends."""
        fail = self.faulty(self.knobs.task_fail_rate)
        task = Task(self.request_id, self.service, self.action, lb_id, self.now, self.now + self.knobs.task_seconds,
                    ops, fail=fail, message="Task failed (emulated task_fail_rate)." if fail else "")
        return self.tasks.start(task)


def require(params: dict[str, Any], name: str, prefix: str = "") -> Any:
    """The value of a required parameter; absent, null, empty string or empty list → MissingParameter."""
    value = params.get(name)
    if value is None or value == "" or value == []:
        raise missing(prefix + name)
    return value


def check_count(items: list[Any] | None, limit: int, name: str, code: str) -> None:
    if items is not None and len(items) > limit:
        raise ApiError(code, f"The number of `{name}` is {len(items)}, which exceeds the limit {limit}.")


def page(items: list[Any], params: dict[str, Any], *, max_limit: int = 100, default_limit: int = 20,
         code: str = INVALID_PARAMETER_VALUE) -> list[Any]:
    """Apply ``Offset``/``Limit`` (default 20, max 100 in these APIs)."""
    offset = params.get("Offset")
    limit = params.get("Limit")
    offset = 0 if offset is None else offset
    limit = default_limit if limit is None else limit
    if offset < 0:
        raise ApiError(code, f"The value of `Offset` must be >= 0, got {offset}.")
    if not 0 <= limit <= max_limit:
        raise ApiError(code, f"The value of `Limit` must be within [0, {max_limit}], got {limit}.")
    return items[offset:offset + limit]


def filters(params: dict[str, Any], supported: set[str], *, invalid_code: str, values_limit: int | None = None,
            values_code: str | None = None) -> dict[str, list[str]]:
    """``Filters`` as ``{name: values}``; unknown names → ``invalid_code``."""
    out: dict[str, list[str]] = {}
    for i, f in enumerate(params.get("Filters") or []):
        name = f.get("Name")
        values = f.get("Values")
        if not name:
            raise missing(f"Filters.{i}.Name")
        if values is None:
            raise missing(f"Filters.{i}.Values")
        if name not in supported:
            raise ApiError(invalid_code, f"The filter `{name}` is not supported; supported: {', '.join(sorted(supported))}.")
        if values_limit is not None and len(values) > values_limit:
            raise ApiError(values_code or invalid_code,
                           f"The filter `{name}` has {len(values)} values, which exceeds the limit {values_limit}.")
        out.setdefault(name, []).extend(values)
    return out
