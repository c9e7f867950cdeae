"""Run one scenario: start the emulator, invoke `main_handler` as SCF would, drain the retry queue.

* The function's environment points at the emulator (`CLB_UNBIND_ENDPOINT`, the estate's credentials,
  the retry and dead-letter queues, the scenario's settings); it is restored afterwards.
* An invocation that raises is invoked again with the same event up to 2 more times (SCF's own retry
  of a failed asynchronous invocation); after the third failure the event counts as kept by SCF's
  dead-letter queue. That is not a loss, and is reported apart.
* Every message that reaches the retry queue is fed back as a CMQ queue event (as the queue trigger
  would, up to `retry_batch` messages per event, sometimes delivered twice), generation after
  generation, until the queue is drained or a bound is hit (which is itself a failure).
* The emulator's `CompleteLifecycleAction` is observed, so the checks know whether the instance was
  still bound at the moment its lifecycle action was completed, not only at the end.
"""
from __future__ import annotations

import contextlib
import io
import os
import random
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from . import RETRY_QUEUE, holdings
from .scenario import Record, Scenario, cmq_event, cmq_record

SCF_ATTEMPTS = 3
"""SCF invokes a failed asynchronous invocation up to 2 more times, then its dead-letter queue keeps the event."""
MAX_INVOCATIONS = 400


@dataclass
class Invocation:
    origin: str
    """"scenario" (one of the scenario's events) or "retry" (fed back from the retry queue)."""
    event: Dict[str, Any]
    records: List[Record]
    retry_msg_ids: List[str]
    scf_attempt: int
    answer: Optional[Dict[str, Any]] = None
    error_type: Optional[str] = None
    error: Optional[str] = None
    seconds: float = 0.0


@dataclass
class Completion:
    """A CompleteLifecycleAction the emulator accepted (it set the result), with the bindings at that moment."""

    hook_id: str
    instance_id: str
    token: str
    result: str
    bound: List[Dict[str, Any]]


@dataclass
class Trace:
    scenario: Scenario
    before: Dict[Tuple, int] = field(default_factory=dict)
    """Every binding of every kind: (lb or group, listener, location, ip, port, owner) -> weight (chaos/holdings.py)."""
    before_by_instance: Dict[str, List[Tuple]] = field(default_factory=dict)
    after: Dict[Tuple, int] = field(default_factory=dict)
    after_by_instance: Dict[str, List[Tuple]] = field(default_factory=dict)
    kinds: Dict[Tuple, str] = field(default_factory=dict)
    """Each binding of `before` → direct | eni_ip | target_group | classic."""
    invocations: List[Invocation] = field(default_factory=list)
    scf_kept: List[Invocation] = field(default_factory=list)
    completions: List[Completion] = field(default_factory=list)
    calls: List[Any] = field(default_factory=list)
    retry_messages: List[Dict[str, Any]] = field(default_factory=list)
    dead_letters: List[Dict[str, Any]] = field(default_factory=list)
    lifecycle_results: List[Dict[str, Any]] = field(default_factory=list)
    drained: bool = True
    rounds: int = 0
    seconds: float = 0.0
    logs: str = ""
    crash: Optional[str] = None
    """A failure of the runner itself (not of the function), with its traceback."""


def snapshot(emu: Any, instance_ids: List[str]) -> Tuple[Dict[Tuple, int], Dict[str, List[Tuple]], Dict[Tuple, str]]:
    """Every binding of every kind (`holdings.targets`), each instance's own (`holdings.by_instance`) and what
    kind each binding is (`holdings.kinds`), at one moment."""
    state = emu.state()
    return holdings.targets(state), holdings.by_instance(state, instance_ids), holdings.kinds(state)


# ----------------------------------------------------------------------------------------------- hooks
_observers: Dict[int, Callable[[Completion], None]] = {}
_observer_lock = threading.Lock()


@contextlib.contextmanager
def observe_completions(emu: Any, sink: List[Completion]) -> Iterator[None]:
    """Watch the emulator's CompleteLifecycleAction (wrapping its action handler for this emulator only)."""
    from emulator.services import SERVICES, ActionSpec

    actions = SERVICES["as"].actions
    with _observer_lock:
        original = actions["CompleteLifecycleAction"]
        wrapped = getattr(original.handler, "_chaos_original", None)
        if wrapped is None:
            inner = original.handler

            def handler(ctx: Any, params: dict) -> dict:
                observer = _observers.get(id(ctx.emu))
                before = {id(a): a.result for a in ctx.estate.lifecycle_actions} if observer else {}
                reply = inner(ctx, params)
                if observer:
                    for a in ctx.estate.lifecycle_actions:
                        if before.get(id(a)) is None and a.result is not None:
                            bound = holdings.by_instance(ctx.emu.state(), [a.instance_id])[a.instance_id]
                            observer(Completion(a.hook_id, a.instance_id, a.token, a.result, bound))
                return reply

            handler._chaos_original = inner  # type: ignore[attr-defined]
            actions["CompleteLifecycleAction"] = ActionSpec(handler, write=original.write, lb_write=original.lb_write)
        _observers[id(emu)] = sink.append
    try:
        yield
    finally:
        with _observer_lock:
            _observers.pop(id(emu), None)


@contextlib.contextmanager
def function_env(emu: Any, settings: Dict[str, str]) -> Iterator[None]:
    """The environment SCF would give the function, every API call sent to the emulator; restored after."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))}
    for name in saved:
        del os.environ[name]
    secret_id, secret_key, session_token = emu.credentials
    env = {"TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key,
           "TENCENTCLOUD_REGION": "ap-guangzhou", "CLB_UNBIND_ENDPOINT": emu.endpoint, **settings}
    if session_token:
        env["TENCENTCLOUD_SESSIONTOKEN"] = session_token
    os.environ.update(env)
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
            del os.environ[name]
        os.environ.update(saved)


# ----------------------------------------------------------------------------------------------- run
class _Runner:
    def __init__(self, sc: Scenario, emu: Any, trace: Trace) -> None:
        from index import main_handler

        self.sc = sc
        self.emu = emu
        self.trace = trace
        self.main_handler = main_handler
        self.rng = random.Random(sc.seed * 7919 + 1)
        self.lock = threading.Lock()
        self.count = 0

    def invoke(self, origin: str, event: Dict[str, Any], records: List[Record], msg_ids: List[str]) -> None:
        """One event, with SCF's retries of a failed invocation."""
        import copy

        for attempt in range(1, SCF_ATTEMPTS + 1):
            with self.lock:
                self.count += 1
                n = self.count
                self._weather(n)
            inv = Invocation(origin, event, records, msg_ids, attempt)
            context = {"request_id": f"chaos-{self.sc.seed}-{n}", "function_name": "clb-unbind",
                       "time_limit_in_ms": self.sc.time_limit_ms, "memory_limit_in_mb": 128}
            started = time.monotonic()
            try:
                inv.answer = self.main_handler(copy.deepcopy(event), context)
            except Exception as exc:  # noqa: BLE001 - recorded and judged by the invariants
                inv.error_type = type(exc).__name__
                inv.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
                if inv.error_type != "UnfinishedWork":
                    inv.error += "\n" + traceback.format_exc()[-3000:]
            inv.seconds = time.monotonic() - started
            with self.lock:
                self.trace.invocations.append(inv)
            if inv.error_type is None:
                return
        with self.lock:
            self.trace.scf_kept.append(inv)

    def _weather(self, n: int) -> None:
        """A queue outage over the first `queue_outage` invocations (called under the lock)."""
        outage = self.sc.queue_outage
        if not outage:
            return
        if n == 1:
            self.emu.set_knobs(error_rate=1.0, fault_actions=["tdmq:SendCmqMsg"])
        elif n == outage + 1:
            self.emu.set_knobs(error_rate=self.sc.knobs.get("error_rate", 0.0), fault_actions=self.sc.knobs.get("fault_actions") or [])

    def group(self, deliveries: List[Tuple[str, Dict[str, Any], List[Record], List[str]]]) -> None:
        if len(deliveries) == 1:
            self.invoke(*deliveries[0])
            return
        threads = [threading.Thread(target=self.invoke, args=d, name="chaos-invocation") for d in deliveries]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def scenario_events(self) -> None:
        for group in self.sc.deliveries:
            self.group([("scenario", d.event, d.records, []) for d in group])

    def drain(self) -> None:
        consumed = 0
        max_rounds = 4 * self.sc.max_attempts + 10
        while True:
            messages = self.emu.messages(RETRY_QUEUE)
            new = messages[consumed:]
            if not new:
                return
            consumed = len(messages)
            self.trace.rounds += 1
            if self.trace.rounds > max_rounds or len(self.trace.invocations) > MAX_INVOCATIONS:
                self.trace.drained = False
                return
            new = sorted(new, key=lambda m: m["delaySeconds"])  # honour DelaySeconds: order only, no waiting
            events: List[List[Dict[str, Any]]] = []
            while new:
                size = self.rng.randint(1, self.sc.retry_batch)
                events.append(new[:size])
                new = new[size:]
            again = [[m] for batch in events for m in batch if self.rng.random() < self.sc.redeliver_rate]
            for batch in events + again:
                event = cmq_event([cmq_record(m["msgId"], m["body"], topic=RETRY_QUEUE) for m in batch])
                self.group([("retry", event, [], [m["msgId"] for m in batch])])


def run(sc: Scenario, *, capture_logs: bool = True) -> Trace:
    from emulator import Emulator, Knobs

    trace = Trace(sc)
    started = time.monotonic()
    emu = Emulator(sc.estate, knobs=Knobs(**sc.knobs))
    emu.start()
    buffer = io.StringIO()
    try:
        everyone = [i["instanceId"] for i in sc.estate["instances"]] + [i["instanceId"] for i in sc.estate.get("ecmInstances", [])]
        trace.before, trace.before_by_instance, trace.kinds = snapshot(emu, everyone)
        redirect = contextlib.redirect_stdout(buffer) if capture_logs else contextlib.nullcontext()
        with observe_completions(emu, trace.completions), function_env(emu, sc.env), redirect:
            for lb, seconds in sc.locks:
                emu.lock_load_balancer(lb, seconds)
            runner = _Runner(sc, emu, trace)
            try:
                runner.scenario_events()
                runner.drain()
            except Exception:  # noqa: BLE001 - a runner failure is reported as a failed run, with its seed
                trace.crash = traceback.format_exc()
        time.sleep(max(0.05, 2 * float(sc.knobs.get("task_seconds", 0.05))))  # tasks still running settle
        trace.after, trace.after_by_instance, _ = snapshot(emu, everyone)
        trace.calls = emu.calls
        trace.retry_messages = emu.messages(RETRY_QUEUE)
        from . import DEAD_LETTER_QUEUE

        trace.dead_letters = emu.messages(DEAD_LETTER_QUEUE)
        trace.lifecycle_results = emu.lifecycle_results()
    finally:
        emu.stop()
        trace.logs = buffer.getvalue()
        trace.seconds = time.monotonic() - started
    return trace
