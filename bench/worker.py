"""`python -m bench.worker`: one invocation in a fresh process, as SCF would run it.

Protocol on stdin/stdout, one JSON object a line:
    in:  {"strategy": "handler" | "naive", "env": {...}, "events": [event, ...], "trace": bool,
          "barrier": bool, "naive_poll_seconds": float, "name": str, "preimport": [module, ...]}
    out: {"ready": true, "rss_ready_kb": N}            imports done; the clock has not started
    in:  "go"                                          only when "barrier" is true
    out: {"seconds", "cpu_seconds", "started_at", "ended_at", "error", "answers", "rss_ready_kb", "rss_peak_kb",
          "traced_peak_bytes", "ecm_modules"}

The function's JSON logs go to /dev/null (they are still formatted, as on SCF). Timing starts after
every import, so it measures the invocation, not the interpreter's start.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, List

ROOT = Path(__file__).resolve().parent.parent
CONTEXT_LIMIT_MS = 300_000  # serverless.yml: timeout 300


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kilobytes on Linux


def ecm_modules() -> List[str]:
    """Modules of the ECM product loaded in this process (SDK package or the function's own)."""
    def is_ecm(name: str) -> bool:
        return any(p == "ecm" or p.startswith("ecm_") or p.endswith("_ecm") for p in name.split("."))

    return sorted(m for m in sys.modules if is_ecm(m))


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/handler/", "/bench/"):
        if marker in filename:
            return filename.split(marker, 1)[1] if marker == "site-packages/" else marker.strip("/") + "/" + filename.split(marker, 1)[1]
    return filename


def compact(answer: Any) -> Any:
    if not isinstance(answer, dict):
        return answer
    records = answer.get("records")
    if isinstance(records, list):
        return {"apiCalls": answer.get("apiCalls"), "seconds": answer.get("seconds"), "answer_bytes": len(json.dumps(answer)),
                "records": [r.get("status") for r in records],
                "instances": [i.get("status") for r in records for i in r.get("instances") or []]} | {
                    k: answer[k] for k in ("queue", "sweep", "error") if k in answer}
    return {k: v for k, v in answer.items() if k != "instances"} | {"instances": len(answer.get("instances") or [])}


def main() -> int:
    job: Dict[str, Any] = json.loads(sys.stdin.readline())
    env: Dict[str, str] = job["env"]
    os.environ.update(env)
    out = sys.stdout
    name = job.get("name", "bench")
    run: Callable[[int, Dict[str, Any]], Any]
    if job["strategy"] == "handler":
        sys.path.insert(0, str(ROOT / "handler"))
        from index import main_handler

        def run(i: int, event: Dict[str, Any]) -> Any:
            context = {"request_id": f"{name}-{i}", "function_name": "clb-unbind",
                       "time_limit_in_ms": CONTEXT_LIMIT_MS, "memory_limit_in_mb": 128}
            return main_handler(event, context)
    else:
        from bench.naive import POLL_SECONDS
        from bench.naive import main_handler as naive_handler

        poll = float(job.get("naive_poll_seconds") or POLL_SECONDS)

        def run(i: int, event: Dict[str, Any]) -> Any:
            return naive_handler(event, env, poll_seconds=poll)

    for module in job.get("preimport") or []:
        importlib.import_module(module)
    gc.collect()
    rss_ready = rss_kb()
    print(json.dumps({"ready": True, "rss_ready_kb": rss_ready}), file=out, flush=True)
    if job.get("barrier"):
        sys.stdin.readline()
    sys.stdout = open(os.devnull, "w")
    if job.get("trace"):
        tracemalloc.start()
    answers: List[Any] = []
    error = None
    started_at = time.time()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    for i, event in enumerate(job["events"]):
        try:
            answers.append(compact(run(i, event)))
        except Exception as exc:  # report it; the bench marks the run as failed
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    ended_at = time.time()
    traced_peak = tracemalloc.get_traced_memory()[1] if job.get("trace") else None
    top_allocations: List[str] = []
    if job.get("trace"):
        # What is still allocated when the invocation returns (its answer included), by source line.
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        for stat in snapshot.statistics("lineno")[:5]:
            frame = stat.traceback[0]
            top_allocations.append(f"{_short(frame.filename)}:{frame.lineno} {stat.size / 1024:.0f} KiB in {stat.count} blocks")
        tracemalloc.stop()
    result = {"seconds": seconds, "cpu_seconds": cpu, "started_at": started_at, "ended_at": ended_at, "error": error, "answers": answers,
              "rss_ready_kb": rss_ready, "rss_peak_kb": rss_kb(), "traced_peak_bytes": traced_peak, "top_allocations": top_allocations,
              "ecm_modules": ecm_modules()}
    print(json.dumps(result), file=out, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
