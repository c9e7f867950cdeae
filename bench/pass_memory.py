"""What one timer run holds in memory: `python -m bench.pass_memory [--messages N] [--kib K] [--memory MB]`.

Fills the lifecycle queue of an emulator running in its own process (so its copy of the messages is
not counted) with N junk bodies of K KiB shaped like the function's retry envelope (which gets the
1 MiB cap rather than CLB_UNBIND_MAX_PAYLOAD_BYTES), then runs one timer run in this process under
`tracemalloc` (after a run of one such body, so that the modules a run imports are not counted twice) and
prints the peak of the Python heap. It also prints what the
function needs before it holds any message (`RUNTIME_MB` in handler/clb_unbind/consumer.py): the
peak resident size of a fresh interpreter that imports the handler and every SDK module it loads.

These two figures are how `PassLimits` was derived; tests/functional/test_pass_bounds.py runs the
same measurement at a smaller size.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager
from typing import Any, Dict, Iterator

from .emulator_process import ROOT, EmulatorKnobs, EmulatorProcess
from .estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate

for _path in (ROOT / "handler", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

MIB = 1024 * 1024


def junk_envelope(n: int, kib: int) -> str:
    """Shaped like the function's own retry envelope, so the size cap it gets is CMQ's 1 MiB; invalid otherwise."""
    return json.dumps({"kind": "clb-unbind/retry", "version": 1, "junk": n, "pad": "x" * (kib * 1024)})


def fill(emu: EmulatorProcess, messages: int, kib: int) -> None:
    from clb_unbind.cloud import cmq
    from clb_unbind.cloud.deadline import Deadline
    from clb_unbind.cloud.session import CloudSession
    from clb_unbind.config import Settings

    env = emu.env()
    settings = Settings(secret_id=env["TENCENTCLOUD_SECRETID"], secret_key=env["TENCENTCLOUD_SECRETKEY"], cmq_endpoint=emu.endpoint)
    session = CloudSession(settings, Deadline(time.monotonic() + 600, 0.0))
    for n in range(messages):
        cmq.send(session, LIFECYCLE_QUEUE, junk_envelope(n, kib))


@contextmanager
def environment(values: Dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def timer_run_heap(emu: EmulatorProcess, memory_mb: int, extra: Dict[str, str]) -> Dict[str, Any]:
    """One timer run under tracemalloc: its answer's queue figures and the heap's peak above the start."""
    from index import main_handler

    env = {**emu.env(), "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_POLL_SECONDS": "0",
           "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
           "CLB_UNBIND_LOG_LEVEL": "ERROR", **extra}
    context = {"request_id": "pass-memory", "function_name": "clb-unbind", "time_limit_in_ms": 300000,
               "memory_limit_in_mb": memory_mb}
    with environment(env):
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            answer = main_handler({"Type": "Timer", "TriggerName": "pass-memory"}, context)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return {"queue": answer.get("queue"), "peak_bytes": peak - base}


def runtime_mb() -> float:
    """Peak resident size (VmHWM, which exec resets, unlike ru_maxrss) of a fresh interpreter with the handler
    and every SDK client it may load imported."""
    code = ("import sys; sys.path.insert(0, 'handler'); import index; "
            "from clb_unbind import timer_run, process, sweep, trust; "
            "from tencentcloud.clb.v20180317 import clb_client; from tencentcloud.cvm.v20170312 import cvm_client; "
            "from tencentcloud.autoscaling.v20180419 import autoscaling_client; from tencentcloud.tdmq.v20200217 import tdmq_client; "
            "from tencentcloud.ecm.v20190719 import ecm_client; "
            "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pass_memory", description=__doc__)
    parser.add_argument("--messages", type=int, default=150)
    parser.add_argument("--kib", type=int, default=900)
    parser.add_argument("--memory", type=int, default=128, help="the context's memory_limit_in_mb")
    args = parser.parse_args()
    estate = fleet_estate(Shape(leaving=1, load_balancers=1, bound_on=1), visibility_timeout=600)
    with EmulatorProcess(estate, EmulatorKnobs(task_seconds=0.01, latency_seconds=0.0, rate_limit_per_second=0)) as emu:
        fill(emu, 1, args.kib)
        timer_run_heap(emu, args.memory, {})  # the modules a run imports are the runtime's, counted below
        fill(emu, args.messages, args.kib)
        got = timer_run_heap(emu, args.memory, {})
    queue = got["queue"] or {}
    print(f"{args.messages} junk bodies of {args.kib} KiB, memory_limit_in_mb {args.memory}")
    print(f"  heap peak of the timer run   {got['peak_bytes'] / MIB:.1f} MiB (tracemalloc, imports done)")
    print(f"  passes                       {queue.get('passes')} ({queue.get('received')} received, stopped: {queue.get('stopped')})")
    print(f"  runtime before any message   {runtime_mb():.1f} MiB (peak RSS of a fresh interpreter with the handler imported)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
