"""`python -m bench` (`make bench`): run the workloads, print the tables and the goal verdicts.

Order, so that what has a goal runs on a quiet machine:
  1. cold import timings (fresh interpreters, alternating sides);
  2. the handler on (a), (b), (c), (e), one after the other, then on (d), alone, then the queue
     workloads (f)-(i) (bench/queue_workloads.py), one after the other, then the drain (k,
     bench/drain.py: adaptive, adaptive with 1 zero reading, fixed 300 s, beside the ideal);
  3. side by side, to keep `make bench` within minutes: the naive strategy on every workload, and the
     tracemalloc runs of (e), each against its own emulator process (they mostly sleep on task waits,
     busy load balancers and the rate limit; their wall times are for comparison, not goals).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

from . import drain, report
from .chart import write_chart
from .emulator_process import ROOT, EmulatorKnobs
from .estates import LIFECYCLE_QUEUE
from .imports import ImportTimes, measure
from .naive import POLL_SECONDS, RATE_PER_SECOND
from .mixed import MixedRun, run_mixed
from .mixed import lines as mixed_lines
from .queue_workloads import QUEUE_WORKLOADS, QueueRun, run_queue_workload
from .workloads import WORKLOADS, Run, run

ZIP = ROOT / "dist" / "clb-unbind.zip"
PACKAGE = ROOT / "dist" / "package"


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def package_facts() -> Dict[str, Any]:
    if not ZIP.exists():
        return {"zip_bytes": None}
    files = [p for p in PACKAGE.rglob("*") if p.is_file()] if PACKAGE.exists() else []
    return {"zip_bytes": ZIP.stat().st_size, "files": len(files), "unpacked": sum(p.stat().st_size for p in files)}


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description="clb-unbind against the emulator, beside lower bounds and a naive strategy")
    p.add_argument("--task-seconds", type=float, default=0.5, help="emulator: how long a load balancer task runs (default 0.5)")
    p.add_argument("--latency", type=float, default=0.02, help="emulator: seconds added to every reply (default 0.02)")
    p.add_argument("--rate-limit", type=int, default=20, help="emulator: requests per second per action, 0 = off (default 20, the API's)")
    p.add_argument("--only", default="abcdefghijk",
                   help="workloads to run, e.g. 'ac'; f-i are the queue workloads, j the mixed estate, k the drain "
                        "(default abcdefghijk)")
    p.add_argument("--drain-period", type=float, default=drain.DrainBench.period_wall,
                   help="(k): wall seconds one 60 s Cloud Monitor period lasts (default %(default)s)")
    p.add_argument("--drain-phase", type=float, default=drain.DrainBench.phase,
                   help="(k): API seconds after a Cloud Monitor period boundary at which the timer fires (default %(default)s)")
    p.add_argument("--queue", action="store_true", help="only the queue workloads f-i (same as --only fghi)")
    p.add_argument("--no-naive", action="store_true", help="skip the naive strategy")
    p.add_argument("--no-imports", action="store_true", help="skip the cold-import timings")
    p.add_argument("--import-runs", type=int, default=9, help="fresh interpreters per import timing (default 9)")
    args = p.parse_args(argv)
    knobs = EmulatorKnobs(args.task_seconds, args.latency, args.rate_limit)
    only = "fghi" if args.queue else args.only
    chosen = [WORKLOADS[k] for k in only if k in WORKLOADS]
    queue_chosen = [QUEUE_WORKLOADS[k] for k in only if k in QUEUE_WORKLOADS]
    queue_runs: List[QueueRun] = []
    started = time.monotonic()
    runs: Dict[Tuple[str, str], Run] = {}

    imports: Optional[ImportTimes] = None
    if not args.no_imports:
        progress(f"cold import timings ({args.import_runs} fresh interpreters per side)")
        imports = measure(runs=args.import_runs)

    singles = [w for w in chosen if w.invocations == 1]
    for w in singles:
        progress(f"({w.key}) handler")
        runs[(w.key, "handler")] = run(w, "handler", knobs)

    # The handler on multi-invocation workloads runs alone (its wall time has a goal).
    for w in chosen:
        if w.invocations > 1:
            progress(f"({w.key}) handler: {w.invocations} worker processes")
            runs[(w.key, "handler")] = run(w, "handler", knobs)

    for qw in queue_chosen:
        progress(f"({qw.key}) handler: timer runs")
        queue_runs.append(run_queue_workload(qw, knobs))
    mixed: Optional[MixedRun] = None
    if "j" in only:
        progress("(j) handler: mixed estate")
        mixed = run_mixed(knobs)

    drain_bench = drain.DrainBench(period_wall=args.drain_period, phase=args.drain_phase)
    drained: Optional[Tuple[List[drain.ModeRun], Dict[Any, Any]]] = None
    if "k" in only:
        drained = drain.run_bench(drain_bench, progress)

    side_by_side: List[Tuple[str, str, Any]] = []
    if not args.no_naive:
        side_by_side += [(w.key, "naive", (w, "naive", False)) for w in chosen if w.invocations > 1]
    for w in singles:
        if not args.no_naive:
            side_by_side.append((w.key, "naive", (w, "naive", False)))
        if w.memory:
            side_by_side.append((w.key, "handler+trace", (w, "handler", True)))
            if not args.no_naive:
                side_by_side.append((w.key, "naive+trace", (w, "naive", True)))
    if side_by_side:
        progress("side by side: " + ", ".join(f"({k}) {s}" for k, s, _ in side_by_side))
        with ThreadPoolExecutor(max_workers=len(side_by_side)) as pool:
            futures = {(k, s): pool.submit(run, w, strategy, knobs, trace) for k, s, (w, strategy, trace) in side_by_side}
            for key, future in futures.items():
                runs[key] = future.result()

    out: List[str] = []
    out.append("=" * 118)
    out.append(f"make bench: clb-unbind on the local emulator (Python {platform.python_version()}, {report.CPUS} CPUs, "
               f"{time.strftime('%Y-%m-%d %H:%M')})")
    out.append("=" * 118)
    out.append(f"emulator, its own process per run: {knobs.describe()}")
    out.append("handler: its defaults (CLB_UNBIND_CONCURRENCY=4, CLB_UNBIND_TASK_POLL_SECONDS=0.5, CLB_UNBIND_RATE_LIMIT=20 per "
               "process), time_limit_in_ms=300000; each invocation in a fresh worker process, timed after its imports; "
               "JSON logs formatted to /dev/null")
    out.append(f"naive (bench/naive.py): scan DescribeLoadBalancers + DescribeTargets, DeregisterTargets per listener/rule, "
               f"DescribeTaskStatus every {POLL_SECONDS:g}s, paced to {RATE_PER_SECOND:g} req/s per action; the naive runs "
               "run side by side, each against its own emulator")
    out.append("lower bounds: bench/README.md (call bounds count the verification read, one DescribeLBListeners)")
    out.append("")
    out.append("Workloads")
    for w in chosen:
        out.append(f"  ({w.key}) {w.title}: {w.shape.bindings_per_instance} bindings per leaving instance, "
                   f"{w.invocations} invocation(s) x {w.notices_per_invocation} lifecycle record(s)")
    for qw in queue_chosen:
        out.append(f"  ({qw.key}) {qw.title}")
    if chosen:
        out.append("")
        out.append("API calls by action, wall time, each beside the workload's lower bound")
        out += report.calls_table(chosen, runs, knobs)
    if queue_runs:
        out.append("")
        out.append("Queue workloads: timer runs (events/timer.json), each in a fresh worker process, against a fleet estate "
                   "whose groups' terminating hook notifies " + LIFECYCLE_QUEUE)
        out += report.queue_lines(queue_runs)
    if chosen or queue_runs:
        out.append("")
        out.append("Auto Scaling lookups per run (the trust check's, plus at most one activity read and one hooks read)")
        out += report.lookup_lines(chosen, runs, queue_runs)
    if mixed is not None:
        out.append("")
        out.append("(j) Mixed estate: direct binds, a v1 and a v2 target group, a classic load balancer, a secondary IP "
                   "(bench/mixed.py); calls by action beside the lower bound of each kind")
        out += mixed_lines(mixed)
    if drained is not None:
        out.append("")
        out.append("(k) Drain: weight 0 -> unbind per backend, connections cut and Cloud Monitor reads, by drain mode "
                   "(bench/drain.py); timer runs consume the lifecycle queue and the drain's envelopes")
        out += drain.lines(drain_bench, *drained)
    mem = [w for w in chosen if w.memory]
    for w in mem:
        out.append("")
        out.append(f"Peak memory, workload ({w.key}), one invocation in its own process")
        out += report.memory_lines(w, runs)
    if imports is not None:
        out.append("")
        out.append("Cold import (`import index` in a fresh interpreter)")
        out += report.import_lines(imports, runs.get(("a", "handler")))
    out.append("")
    out.append("Goals")
    ecm_check = runs.get(("a", "handler")) or next((r for (k, s), r in runs.items() if s == "handler"), None)
    out += ["  " + line for line in report.goal_lines(WORKLOADS, runs, knobs, imports, package_facts(), ecm_check)]
    out += ["  " + line for line in report.queue_goal_lines(queue_runs)]
    if drained is not None:
        out += ["  " + line for line in drain.goal_lines(drain_bench, *drained)]
    out.append("")
    out.append(f"chart: {write_chart(chosen, runs, queue_runs, knobs)}")
    out.append(f"bench took {time.monotonic() - started:.0f}s")
    print("\n".join(out), flush=True)
    mixed_ok = mixed is None or mixed.ok
    drain_ok = drained is None or not any(r.problems for r in drained[0])
    return 0 if all(r.ok for r in runs.values()) and all(r.ok for r in queue_runs) and mixed_ok and drain_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
