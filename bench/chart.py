"""`make bench`'s picture: each workload's API calls and wall time beside its lower bound and the naive
strategy (tools/pictures.py draws it)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from .emulator_process import ROOT, EmulatorKnobs
from .queue_workloads import QueueRun
from .workloads import Run, Workload

OUT = ROOT / "dist" / "bench-chart.svg"


def write_chart(workloads: Sequence[Workload], runs: Dict[Tuple[str, str], Run], queue_runs: Sequence[QueueRun],
                knobs: EmulatorKnobs) -> Path:
    from tools.pictures import BenchBar, bench_svg

    bars: List[BenchBar] = []
    for w in workloads:
        scale = w.invocations if w.invocations > 1 else 1
        label = f"({w.key})" + (f" x{w.invocations}" if scale > 1 else "")
        bars.append(BenchBar(label, "bound", sum(w.call_bound().values()) * scale, w.wall_bound(knobs)))
        for strategy in ("handler", "naive"):
            r = runs.get((w.key, strategy))
            if r is not None:
                bars.append(BenchBar(label, strategy, r.calls.get("total") or sum(r.calls.get("by_action", {}).values()), r.seconds))
    for q in queue_runs:
        label = f"({q.workload.key}) queue"
        bars.append(BenchBar(label, "bound", sum(q.bound.values()), None))
        bars.append(BenchBar(label, "handler", q.calls.get("total"), sum(t.seconds for t in q.runs) or None))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(bench_svg(bars, "make bench: API calls and wall time per workload",
                             f"emulator: {knobs.describe()}; (d) counts all its invocations; queue workloads: all their timer "
                             "runs, no naive strategy, wall bound in the text report"))
    return OUT
