"""Run one queue-mode scenario: Auto Scaling scales in, the queue is filled, then timer runs consume it.

* The emulator starts without faults; Auto Scaling's `scale_in` publishes its notifications, the
  scenario's other messages are sent as any producer would (TDMQ `SendCmqMsg` through the SDK), and
  only then are the faults switched on.
* The scenario's rounds run in order: one timer run in this process, two at once (threads), or one in
  a worker process (`python -m chaos.worker`) killed with SIGKILL `kill_after` seconds after its
  handler was imported.
* Then single timer runs follow until the queue holds nothing visible or delayed and no leaving
  instance waits on one of our hooks (a message in flight is allowed: it is inside its visibility
  timeout), waiting for a short visibility timeout to bring in-flight messages back. A bound on the
  number of runs ends a run that does not settle (itself a failure).
"""
from __future__ import annotations

import contextlib
import io
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from . import ROOT
from .queue_scenario import FOREIGN_QUEUE, GROUP, QUEUE_DEAD, QueueScenario
from .runner import Completion, function_env, observe_completions, snapshot
from .scenario import LIFECYCLE_QUEUE

INSTANCE = re.compile(r"\b(?:ins|ein)-[a-z0-9]{8}\b")
FORGED_ACTIVITY = "asa-emu00001"
"""The activity id the scenario's forged messages carry; replaced by the real scale-in's."""
WORKER_START_SECONDS = 30.0


@dataclass
class TimerRun:
    how: str
    """in_process | overlap | killed | worker (a worker that finished before its kill)"""
    seconds: float = 0.0
    answer: Optional[Dict[str, Any]] = None
    error: Optional[str] = None


@dataclass
class QueueTrace:
    scenario: QueueScenario
    before: Dict[Tuple, int] = field(default_factory=dict)
    before_by_instance: Dict[str, List[Tuple]] = field(default_factory=dict)
    after: Dict[Tuple, int] = field(default_factory=dict)
    after_by_instance: Dict[str, List[Tuple]] = field(default_factory=dict)
    kinds: Dict[Tuple, str] = field(default_factory=dict)
    runs: List[TimerRun] = field(default_factory=list)
    completions: List[Completion] = field(default_factory=list)
    calls: List[Any] = field(default_factory=list)
    lifecycle_results: List[Dict[str, Any]] = field(default_factory=list)
    queue_left: List[Dict[str, Any]] = field(default_factory=list)
    queue_dead: List[Dict[str, Any]] = field(default_factory=list)
    dead_letters: List[Dict[str, Any]] = field(default_factory=list)
    own_hooks: List[str] = field(default_factory=list)
    activity_id: str = ""
    settled: bool = True
    seconds: float = 0.0
    logs: str = ""
    crash: Optional[str] = None


class _QueueRunner:
    def __init__(self, sc: QueueScenario, emu: Any, trace: QueueTrace, logs: io.StringIO) -> None:
        from index import main_handler

        self.sc = sc
        self.emu = emu
        self.trace = trace
        self.logs = logs
        self.main_handler = main_handler
        self.lock = threading.Lock()
        self.n = 0
        self.rng = random.Random(sc.seed * 7919 + 5)

    def _request_id(self) -> str:
        with self.lock:
            self.n += 1
            return f"chaos-q{self.sc.seed}-{self.n}"

    def fill(self) -> None:
        from tests.estates import send_to_queue

        sc, emu = self.sc, self.emu
        published = [i for i in sc.leaving if i not in sc.lost_notifications]
        lost = [i for i in sc.leaving if i in sc.lost_notifications]
        first = emu.scale_in(GROUP, published) if published else None
        second = emu.scale_in(GROUP, lost, publish=False) if lost else None
        self.trace.activity_id = (first or second or {}).get("activityId", "")
        bodies: List[str] = []
        for m in emu.messages(FOREIGN_QUEUE):  # another team's notification, copied into our queue
            if any(f'"InstanceId": "{iid}"' in m["body"] for iid in sc.wrong_hook):
                bodies.append(m["body"])
        bodies += [i.body.replace(FORGED_ACTIVITY, self.trace.activity_id) for i in sc.injected]
        self.rng.shuffle(bodies)
        for body in bodies:
            send_to_queue(emu, LIFECYCLE_QUEUE, body)

    def in_process(self, how: str = "in_process") -> None:
        run = TimerRun(how)
        context = {"request_id": self._request_id(), "function_name": "clb-unbind",
                   "time_limit_in_ms": self.sc.time_limit_ms, "memory_limit_in_mb": 128}
        started = time.monotonic()
        try:
            run.answer = self.main_handler({"Type": "Timer", "TriggerName": "clb-unbind-consume"}, context)
        except Exception as exc:  # noqa: BLE001 - a timer run must never raise: judged by the invariants
            run.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-3000:]}"
        run.seconds = time.monotonic() - started
        with self.lock:
            self.trace.runs.append(run)

    def overlap(self) -> None:
        threads = [threading.Thread(target=self.in_process, args=("overlap",), name="chaos-timer") for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def killed(self, after: float) -> None:
        """A timer run in its own process, SIGKILLed `after` seconds into its work (never cleaned up after)."""
        run = TimerRun("killed")
        cmd = [sys.executable, "-m", "chaos.worker", str(self.sc.time_limit_ms), self._request_id()]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started = time.monotonic()
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "ready":
                run.error = f"the worker did not start: {line.strip()[:300]}"
            else:
                time.sleep(after)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                else:
                    run.how = "worker"
        finally:
            try:
                out, _ = proc.communicate(timeout=WORKER_START_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            run.seconds = time.monotonic() - started
            self.logs.write(out or "")
            if run.how == "worker" and proc.returncode != 0:
                run.error = f"the worker exited {proc.returncode}"
        self.trace.runs.append(run)

    def settled(self) -> bool:
        state = self.emu.queue_state(LIFECYCLE_QUEUE)
        if state["visible"] or state["delayed"]:
            return False
        if state["inFlight"] and self.sc.visibility_timeout <= 3:
            return False
        dead = self._dead_lettered()
        for a in self.emu.lifecycle_results():
            if a["lifecycleHookId"] in self.trace.own_hooks and a["instanceId"] in self.sc.leaving \
                    and a["result"] is None and a["instanceId"] not in dead:
                return False
        return True

    def _dead_lettered(self) -> set:
        return {iid for m in self.emu.messages(self.dead_letter_queue) for iid in named_in(m["body"])}

    dead_letter_queue = ""

    def wait_for_messages(self) -> None:
        """Until a message in flight or delayed becomes visible, if that is soon."""
        now = time.time()
        times = [m["nextVisibleTime"] for m in self.emu.messages(LIFECYCLE_QUEUE) if m["state"] != "visible"]
        if times:
            time.sleep(min(max(min(times) - now, 0.0) + 0.05, self.sc.visibility_timeout + 0.5, 3.5))


def named_in(body: str) -> Set[str]:
    """Instance ids a dead letter names (its notices, and what its original or refusals carry)."""
    return set(INSTANCE.findall(body))


def _own_hooks(estate: Dict[str, Any]) -> List[str]:
    return [h["lifecycleHookId"] for g in estate["scalingGroups"] for h in g["lifecycleHooks"]
            if (h.get("notificationTarget") or {}).get("queueName") == LIFECYCLE_QUEUE]


def run_queue(sc: QueueScenario, *, capture_logs: bool = True) -> QueueTrace:
    from emulator import Emulator, Knobs

    from . import DEAD_LETTER_QUEUE

    trace = QueueTrace(sc, own_hooks=_own_hooks(sc.estate))
    started = time.monotonic()
    emu = Emulator(sc.estate, knobs=Knobs(seed=sc.seed, task_seconds=sc.knobs.get("task_seconds", 0.02), rate_limit_per_second=0))
    emu.start()
    buffer = io.StringIO()
    try:
        everyone = [i["instanceId"] for i in sc.estate["instances"]] + [i["instanceId"] for i in sc.estate.get("ecmInstances", [])]
        trace.before, trace.before_by_instance, trace.kinds = snapshot(emu, everyone)
        redirect = contextlib.redirect_stdout(buffer) if capture_logs else contextlib.nullcontext()
        with observe_completions(emu, trace.completions), function_env(emu, sc.env), redirect:
            runner = _QueueRunner(sc, emu, trace, buffer)
            runner.dead_letter_queue = DEAD_LETTER_QUEUE
            try:
                runner.fill()
                emu.set_knobs(**{k: v for k, v in sc.knobs.items() if k != "seed"})
                for r in sc.rounds:
                    if r.kind == "overlap":
                        runner.overlap()
                    elif r.kind == "kill":
                        runner.killed(r.kill_after)
                    else:
                        runner.in_process()
                bound = 4 * sc.max_attempts + 6
                while not runner.settled():
                    if len(trace.runs) >= len(sc.rounds) + bound:
                        trace.settled = False
                        break
                    if emu.queue_state(LIFECYCLE_QUEUE)["visible"] == 0:
                        runner.wait_for_messages()
                    runner.in_process()
            except Exception:  # noqa: BLE001 - a runner failure is reported as a failed run, with its seed
                trace.crash = traceback.format_exc()
        time.sleep(max(0.05, 2 * float(sc.knobs.get("task_seconds", 0.05))))
        trace.after, trace.after_by_instance, _ = snapshot(emu, everyone)
        trace.calls = emu.calls
        trace.lifecycle_results = emu.lifecycle_results()
        trace.queue_left = emu.messages(LIFECYCLE_QUEUE)
        trace.queue_dead = emu.messages(QUEUE_DEAD)
        trace.dead_letters = emu.messages(DEAD_LETTER_QUEUE)
    finally:
        emu.stop()
        trace.logs = buffer.getvalue()
        trace.seconds = time.monotonic() - started
    return trace
