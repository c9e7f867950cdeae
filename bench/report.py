"""The tables and the goal verdicts `make bench` prints."""
from __future__ import annotations

import os
import statistics
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .emulator_process import EmulatorKnobs
from .imports import BARE, ImportTimes
from .queue_workloads import QueueRun
from .workloads import Run, Workload

ACTIONS: Sequence[Tuple[str, str]] = (
    ("cvm:DescribeInstances", "DI"),
    ("clb:DescribeLBListeners", "DLBL"),
    ("clb:BatchDeregisterTargets", "BDT"),
    ("clb:DescribeTaskStatus", "DTS"),
    ("as:CompleteLifecycleAction", "CLA"),
    ("clb:DescribeLoadBalancers", "DLB"),
    ("clb:DescribeTargets", "DT"),
    ("clb:DeregisterTargets", "DRT"),
)
KNOWN = {a for a, _ in ACTIONS}
CPUS = os.cpu_count() or 1
CALL_GOAL = 1.2
WALL_GOAL = 1.5
IMPORT_GOAL = 1.25
PACKAGE_GOAL_BYTES = 8 * 1024 * 1024


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def _mb(n: Optional[float]) -> str:
    return "-" if n is None else f"{n / 1024 / 1024:.1f} MB"


def _table(rows: List[List[str]], right_from: int = 2) -> List[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.ljust(w) if i < right_from else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def call_row(label: str, run_label: str, counts: Dict[str, float], bound_total: float, refused: Optional[int],
             seconds: Optional[float], wall_bound: float, ok: str) -> List[str]:
    other = sum(v for k, v in counts.items() if k not in KNOWN)
    total = sum(counts.values())
    cells = [label, run_label] + [_num(counts[a]) if counts.get(a) else "-" for a, _ in ACTIONS]
    cells += [_num(other) if other else "-", _num(total), f"{total / bound_total:.2f}x" if bound_total else "-",
              "-" if refused is None else str(refused),
              "-" if seconds is None else f"{seconds:.2f}", "-" if seconds is None else f"{seconds / wall_bound:.2f}x", ok]
    return cells


def calls_table(workloads: Sequence[Workload], runs: Dict[Tuple[str, str], Run], knobs: EmulatorKnobs) -> List[str]:
    header = ["workload", "run"] + [abbr for _, abbr in ACTIONS] + ["other", "total", "x bound", "refused", "wall s", "x bound", "ok"]
    rows = [header]
    for w in workloads:
        totals = w.invocations > 1
        scale = w.invocations if totals else 1
        bound = {k: v * scale for k, v in w.call_bound().items()}
        bound_total = sum(bound.values())
        wb = w.wall_bound(knobs)
        label = f"({w.key})" + (f" all {w.invocations}" if totals else "")
        rows.append(call_row(label, "bound", bound, bound_total, None, wb, wb, ""))
        for strategy in ("handler", "naive"):
            r = runs.get((w.key, strategy))
            if r is None:
                continue
            ok = "yes" if r.ok else "NO: " + "; ".join(r.errors[:1] + r.problems)[:80]
            rows.append(call_row("", strategy, r.calls["by_action"], bound_total, sum(r.calls["refused"].values()),
                                 r.seconds, wb, ok))
    lines = _table(rows)
    lines.append("  " + ", ".join(f"{abbr} = {a}" for a, abbr in ACTIONS))
    lines.append("  calls: every request that reached the emulator, refused ones included (refused = answered with an error);")
    lines.append("  one invocation for (a)-(c) and (e), the sum over the 40 invocations for (d); bounds include the verification read.")
    return lines


LOOKUPS = (("as:DescribeAutoScalingInstances", "DASI"), ("as:DescribeAutoScalingActivities", "DASA"),
           ("as:DescribeLifecycleHooks", "DLH"))
GROWTH = {"as:DescribeAutoScalingActivities": 1, "as:DescribeLifecycleHooks": 1}
"""Issue 15: a run's Auto Scaling lookups grow by at most one activity read and one hooks read."""


def lookup_lines(workloads: Sequence[Workload], runs: Dict[Tuple[str, str], Run], queue_runs: Sequence[QueueRun]) -> List[str]:
    """The handler's Auto Scaling reads per run on the lifecycle workloads, beside what each may cost."""
    rows = [["workload", "runs"] + [f"{abbr}/run" for _, abbr in LOOKUPS] + ["at most", "verdict"]]
    found: List[Tuple[str, int, Dict[str, Any]]] = []
    for w in workloads:
        r = runs.get((w.key, "handler"))
        if r is not None:
            found.append((f"({w.key})", w.invocations, r.calls.get("by_action", {})))
    for q in queue_runs:
        found.append((f"({q.workload.key})", len(q.runs), q.calls.get("by_action", {})))
    for label, n, counts in found:
        per_run = {a: counts.get(a, 0) / max(n, 1) for a, _ in LOOKUPS}
        met = all(per_run[a] <= limit for a, limit in GROWTH.items())
        rows.append([label, str(n)] + [f"{per_run[a]:g}" for a, _ in LOOKUPS]
                    + [" + ".join(f"{v} {abbr}" for (a, abbr) in LOOKUPS for k, v in GROWTH.items() if k == a), _verdict(met)])
    lines = _table(rows)
    lines.append("  DASI = as:DescribeAutoScalingInstances (the trust check, and the sweep's pages), DASA = "
                 "as:DescribeAutoScalingActivities, DLH = as:DescribeLifecycleHooks: a run reads each group's hooks once, and")
    lines.append("  the activities only of instances past their hook (none here: they wait IN_TERMINATING_HOOK)")
    return lines


def memory_lines(w: Workload, runs: Dict[Tuple[str, str], Run]) -> List[str]:
    rows = [["run", "", "tracemalloc peak", "ru_maxrss", "rss after imports", "growth", "wall s", "calls"]]
    for strategy in ("handler", "naive"):
        plain, traced = runs.get((w.key, strategy)), runs.get((w.key, strategy + "+trace"))
        if plain is None:
            continue
        rows.append([strategy, "", _mb(traced.traced_peak_bytes if traced else None), _mb((plain.rss_peak_kb or 0) * 1024),
                     _mb((plain.rss_ready_kb or 0) * 1024), _mb(((plain.rss_peak_kb or 0) - (plain.rss_ready_kb or 0)) * 1024),
                     f"{plain.seconds:.2f}", str(plain.calls["total"])])
    lines = _table(rows)
    for strategy in ("handler", "naive"):
        traced = runs.get((w.key, strategy + "+trace"))
        if traced and traced.top_allocations:
            lines.append(f"  {strategy}, live when the invocation returned (largest): " + "; ".join(traced.top_allocations[:4]))
        plain = runs.get((w.key, strategy))
        sizes = [a.get("answer_bytes") for a in (plain.answers if plain else []) if isinstance(a, dict) and a.get("answer_bytes")]
        if sizes:
            lines.append(f"  {strategy} answer (the summary main_handler returns): {sizes[0] / 1024:.0f} KiB of JSON")
    lines.append("  tracemalloc peak: Python allocations during the invocation (a second run with tracemalloc on, the CVM/CLB/AS SDK")
    lines.append("  modules imported before the clock starts: the handler loads them lazily, ~12 MB of module objects, counted in ru_maxrss);")
    lines.append("  ru_maxrss: the worker process's peak RSS (run without tracemalloc); growth = peak - RSS once imports were done.")
    lines.append("  No meaningful lower bound: the floor is the process after its imports (the 'rss after imports' column).")
    return lines


def import_lines(t: ImportTimes, first: Optional[Run] = None) -> List[str]:
    rows = [["import", "", "median s", "x bare", "process s", "samples"]]
    bare = t.median("bare")
    for name in ("index", "bare", "deps index loads", "index (no .pyc)", "bare (no .pyc)"):
        if name not in t.samples:
            continue
        ref = t.median("bare (no .pyc)") if "no .pyc" in name else bare
        rows.append([name, "", f"{t.median(name):.3f}", f"{t.median(name) / ref:.2f}x", f"{t.process_median(name):.3f}",
                     str(len(t.samples[name]))])
    lines = _table(rows)
    lines.append(f"  bare = `import {', '.join(BARE)}`; deps index loads = the {len(t.deps_of_index)} site-packages modules "
                 "`import index` loads, without the function's code.")
    lines.append("  median s: time of the import statement inside a fresh interpreter; process s: the whole child process "
                 f"(interpreter start {t.process_median('empty'):.3f}s included).")
    lines.append("  -X importtime, one run: the function's own modules by self time: "
                 + ", ".join(f"{m} {s * 1000:.0f}ms" for m, s, c in t.top_own_modules))
    lines.append("  third-party imports made by the function's modules, cumulative: "
                 + ", ".join(f"{m} {c * 1000:.0f}ms (from {parent})" for m, c, parent in t.third_party_by_own))
    if first is not None:
        lines.append(f"  after the import, the first invocation (workload ({first.workload.key}), a CVM-only lifecycle event) used "
                     f"{first.cpu_seconds * 1000:.0f}ms of CPU (SDK clients and models loaded on first use, validators built, JSON logs)")
    return lines


def _excess(run: Run, bound: Dict[str, float], scale: int = 1) -> List[str]:
    counts = run.calls["by_action"]
    out = []
    for action in sorted(set(counts) | set(bound)):
        have, want = counts.get(action, 0), bound.get(action, 0) * scale
        if have > want:
            refused = {k.split(":", 2)[2]: v for k, v in run.calls["refused"].items() if k.startswith(action + ":")}
            why = f" ({', '.join(f'{v} refused {c}' for c, v in refused.items())})" if refused else ""
            out.append(f"{action} {_num(have)} vs {_num(want)} (+{_num(have - want)}){why}")
    return out


def goal_lines(workloads: Dict[str, Workload], runs: Dict[Tuple[str, str], Run], knobs: EmulatorKnobs,
               imports: Optional[ImportTimes], package: Optional[Dict[str, Any]], ecm_check: Optional[Run]) -> List[str]:
    lines: List[str] = []
    for key in ("a", "b", "c"):
        r, w = runs.get((key, "handler")), workloads.get(key)
        if r is None or w is None:
            continue
        bound = w.call_bound()
        ratio = r.calls["total"] / sum(bound.values())
        met = ratio <= CALL_GOAL and r.ok
        lines.append(f"({key}) API calls <= {CALL_GOAL}x bound: {r.calls['total']} vs {sum(bound.values())} = {ratio:.2f}x  "
                     f"{_verdict(met)} ({'margin' if ratio <= CALL_GOAL else 'over by'} {abs(CALL_GOAL - ratio):.2f}x)"
                     + ("" if r.ok else "  [run not ok: " + "; ".join(r.errors[:1] + r.problems) + "]"))
        for e in _excess(r, bound):
            lines.append(f"      above the bound: {e}")
    r, w = runs.get(("d", "handler")), workloads.get("d")
    if r is not None and w is not None:
        wb = w.wall_bound(knobs)
        ratio = r.seconds / wb
        lines.append(f"(d) wall time <= {WALL_GOAL}x bound: {r.seconds:.1f}s vs {wb:.1f}s (the larger of the load balancers' busy "
                     f"time and {w.tasks_per_lb() * w.shape.bound_on} writes at {knobs.rate_limit_per_second}/s) = {ratio:.2f}x  "
                     f"{_verdict(ratio <= WALL_GOAL and r.ok)} "
                     f"({'margin' if ratio <= WALL_GOAL else 'over by'} {abs(WALL_GOAL - ratio):.2f}x, "
                     f"{abs(r.seconds - WALL_GOAL * wb):.1f}s)" + ("" if r.ok else "  [run not ok: " + "; ".join(r.errors[:1] + r.problems) + "]"))
        lines += ["      " + x for x in where_time_went(r, w, knobs)]
    if imports is not None:
        idx, bare = imports.median("index"), imports.median("bare")
        ratio = idx / bare
        deps = imports.median("deps index loads")
        lines.append(f"cold import <= {IMPORT_GOAL}x bare dependencies: {idx * 1000:.0f}ms vs {bare * 1000:.0f}ms = {ratio:.2f}x  "
                     f"{_verdict(ratio <= IMPORT_GOAL)} ({'margin' if ratio <= IMPORT_GOAL else 'over by'} {abs(IMPORT_GOAL - ratio):.2f}x)")
        lines.append(f"      of {idx * 1000:.0f}ms: {deps * 1000:.0f}ms is importing the third-party modules index loads "
                     f"({deps / bare:.2f}x bare; bare `import pydantic` is lazy and loads neither pydantic.main nor the "
                     f"schema machinery), {max(idx - deps, 0) * 1000:.0f}ms the function's own module bodies")
        heavy = [m for m in imports.deps_of_index if m.split(".")[0] not in {b.split(".")[0] for b in BARE}]
        if heavy:
            lines.append(f"      modules outside the bare packages that index loads: {', '.join(sorted({m.split('.')[0] for m in heavy}))}")
    if ecm_check is not None:
        lines.append(f"CVM-only event loads no ECM module: {_verdict(not ecm_check.ecm_modules)} "
                     f"({'none in sys.modules after workload (' + ecm_check.workload.key + ')' if not ecm_check.ecm_modules else ', '.join(ecm_check.ecm_modules)})")
    if package is not None:
        size = package.get("zip_bytes")
        if size is None:
            lines.append("deploy package <= 8 MB: not measured (dist/clb-unbind.zip missing: run `make package`)")
        else:
            lines.append(f"deploy package <= 8 MB: {size / 1024 / 1024:.2f} MB ({size} bytes; {package['files']} files, "
                         f"{package['unpacked'] / 1024 / 1024:.1f} MB unpacked)  {_verdict(size <= PACKAGE_GOAL_BYTES)} "
                         f"(margin {(PACKAGE_GOAL_BYTES - size) / 1024 / 1024:.2f} MB)")
    return lines


def where_time_went(r: Run, w: Workload, knobs: EmulatorKnobs) -> List[str]:
    out: List[str] = []
    tl = r.timeline
    if tl:
        first = statistics.mean(v["first_task_at"] for v in tl.values())
        idle = statistics.mean(v["idle_between"] for v in tl.values())
        gap = statistics.median(v["median_gap"] for v in tl.values())
        tail = statistics.mean(v["tail"] for v in tl.values())
        busy = statistics.mean(v["busy"] for v in tl.values())
        tasks = statistics.mean(v["tasks"] for v in tl.values())
        out.append(f"per LB (mean of {len(tl)}): {tasks:.0f} tasks = {busy:.1f}s busy; first task started {first:.1f}s after the start; "
                   f"{idle:.1f}s idle between tasks (median gap {gap:.2f}s from a task's end to the next one's start); "
                   f"{tail:.1f}s after its last task")
    reads = r.reads
    if reads:
        out.append(f"the first API call reached the emulator {min(a for a, _, _ in reads.values()):.1f}s after the start")
    for action in ("cvm:DescribeInstances", "clb:DescribeLBListeners", "as:CompleteLifecycleAction"):
        if action in reads:
            a, b, n = reads[action]
            out.append(f"{action}: {n} accepted between {a:.1f}s and {b:.1f}s")
    refused = r.calls.get("refused") or {}
    write = "clb:BatchDeregisterTargets" if r.strategy == "handler" else "clb:DeregisterTargets"
    attempts = r.calls["by_action"].get(write, 0)
    if attempts and r.seconds:
        limited = refused.get(f"{write}:RequestLimitExceeded", 0)
        busy = refused.get(f"{write}:FailedOperation.ResourceInOperating", 0)
        admitted = attempts - limited
        limit = f"of the {knobs.rate_limit_per_second}/s an action gets" if knobs.rate_limit_per_second else "no rate limit"
        out.append(f"{write}: {attempts} attempts ({attempts / r.seconds:.0f}/s); {limited} refused by the rate limit; "
                   f"{admitted} admitted ({admitted / r.seconds:.1f}/s, {limit}), of which {busy} "
                   f"found the load balancer busy and {admitted - busy} started a task")
    if refused:
        out.append("refused calls: " + ", ".join(f"{k} {v}" for k, v in sorted(refused.items(), key=lambda kv: -kv[1])))
    if r.strategy == "handler" and r.client_calls and r.client_calls != r.calls["total"]:
        out.append(f"the invocations counted {r.client_calls} call attempts, the emulator {r.calls['total']}: "
                   f"{r.client_calls - r.calls['total']} never reached it (network errors; the emulator's listen backlog is 5)")
    per = sorted(r.invocation_seconds)
    if per:
        out.append(f"invocations took {per[0]:.1f}s to {per[-1]:.1f}s (median {statistics.median(per):.1f}s); "
                   f"CPU {r.cpu_seconds:.1f}s in all = {r.cpu_seconds / CPUS:.1f}s of this machine's {CPUS} cores "
                   "(on SCF each invocation has its own)")
    return out


def queue_lines(results: Sequence[QueueRun]) -> List[str]:
    """Per queue workload: its calls by action beside the bound, then its figures beside their bound or goal."""
    out: List[str] = []
    for r in results:
        w = r.workload
        out.append(f"  ({w.key}) {w.title}")
        actions = sorted(set(r.calls.get("by_action", {})) | set(r.bound))
        rows = [["    action", "", "calls", "bound"]]
        rows += [[f"    {a}", "", str(r.calls.get("by_action", {}).get(a, 0)), str(r.bound.get(a, 0))] for a in actions]
        rows.append(["    total", "", str(r.calls.get("total", 0)), str(sum(r.bound.values()))])
        out += _table(rows)
        refused = r.calls.get("refused") or {}
        if refused:
            out.append("      answered with an error code: " + ", ".join(f"{k} {v}" for k, v in sorted(refused.items()))
                       + (" (CMQ 7000 = no message: the empty receive a run ends on)" if any(k.endswith(":7000") for k in refused) else ""))
        rows = [["    figure", "", "measured", "bound / goal", "verdict"]]
        rows += [[f"    {f.name}", "", f.measured, f.bound, "-" if f.met is None else _verdict(f.met)] for f in r.figures]
        out += _table(rows, right_from=5)
        out += [f"      {n}" for n in r.notes]
        out.append(f"      ok: {'yes' if r.ok else 'NO: ' + '; '.join(r.errors[:1] + r.problems)}")
    out.append("  calls: every request that reached the emulator in the workload's timer runs, all runs together")
    return out


def queue_goal_lines(results: Sequence[QueueRun]) -> List[str]:
    lines: List[str] = []
    for r in results:
        for f in r.figures:
            if f.met is not None:
                lines.append(f"({r.workload.key}) {f.name}: {f.measured} vs {f.bound}  {_verdict(f.met and r.ok)}")
        if not r.ok:
            lines.append(f"      [run not ok: {'; '.join(r.errors[:1] + r.problems)}]")
    return lines
